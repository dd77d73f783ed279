"""/groups [/camps]: opinion groups among the voters of the chat (or of all chats), what sets
each apart, what they share, and the question that divides them most."""

from __future__ import annotations

import asyncio
import threading

from bot.context import AgoraApp
from bot.core.commands import ALL_CHATS_WORDS, GROUPS
from bot.core.refusals import Unclear
from bot.insights.groups_text import groups_blocks, scope_text, too_few, usage
from bot.insights.opinion_groups import Ballots, OpinionGroups, describe
from handlers.common import command
from handlers.request import Request, handles
from storage.insights import answer_patterns

CLUSTERING = threading.Lock()


def describe_in_turn(ballots: Ballots) -> OpinionGroups | None:
    """`describe`, one call at a time (in threads): at 100,000 voters each takes about 0.7 s
    and 90 MiB (README, "Insights"), no more at once than when they ran on the event loop."""
    with CLUSTERING:
        return describe(ballots)


@handles(GROUPS)
async def show_groups(request: Request) -> None:
    """Find opinion groups among the voters of this chat, or of all chats."""
    chat, article = request.chat, request.article
    words = [word.lower() for word in request.args]
    everywhere = bool(words) and words[0] in ALL_CHATS_WORDS
    if words and (not everywhere or len(words) > 1):
        raise Unclear(usage())
    scope = scope_text(everywhere, request.private)
    questions = [(question.key, question.option_count) for question in article.questions]
    database, chat_id = request.context.services.database, None if everywhere else chat.id

    async def compute() -> tuple[OpinionGroups | None, int]:
        async with database.read() as reading:
            patterns = await answer_patterns(reading, article.id, chat_id, questions)
        ballots = Ballots.of_patterns([options for _, options in questions], patterns)
        # In a thread: the event loop goes on with other chats meanwhile.
        return await asyncio.to_thread(describe_in_turn, ballots), ballots.eligible_voters()

    def answer(computed: tuple[OpinionGroups | None, int]) -> None:
        found, eligible = computed
        if found is None:
            blocks = [too_few(eligible, scope, everywhere)]
        else:
            blocks = groups_blocks(article, found, scope)
        request.reply_blocks(blocks)

    # Up to a second at 100,000 voters: computed after this update's transaction, which
    # would otherwise make every writer wait on SQLite, and without holding up other chats;
    # the same question asked meanwhile (twenty /groups all) shares the computation.
    key = (article.id, chat_id, tuple(questions))
    request.later("groups", key, compute, answer)


def register(app: AgoraApp) -> None:
    app.add_handler(command(GROUPS.names, show_groups))
