"""/groups [/camps]: opinion groups among the voters of the chat (or of all chats), what sets
each apart, what they share, and the question that divides them most."""

from __future__ import annotations

import asyncio

from bot.context import AgoraApp
from bot.core.commands import ALL_CHATS_WORDS, GROUPS
from bot.core.refusals import Unclear
from bot.insights.group_inputs import describe_in_turn, group_inputs
from bot.insights.groups_text import groups_blocks, scope_text, too_few, usage
from bot.insights.opinion_groups import OpinionGroups
from handlers.common import command
from handlers.request import Request, handles


@handles(GROUPS)
async def show_groups(request: Request) -> None:
    """Find opinion groups among the voters of this chat, or of all chats."""
    chat, article = request.chat, request.article
    words = [word.lower() for word in request.args]
    everywhere = bool(words) and words[0] in ALL_CHATS_WORDS
    if words and (not everywhere or len(words) > 1):
        raise Unclear(usage())
    scope = scope_text(everywhere, chat.type)
    database, chat_id = request.context.services.database, None if everywhere else chat.id

    async def compute() -> tuple[OpinionGroups | None, int, list[str]]:
        async with database.read() as reading:
            inputs = await group_inputs(reading, article, chat_id)
        ballots = inputs.ballots()
        # In a thread: the event loop goes on with other chats meanwhile.
        found = await asyncio.to_thread(describe_in_turn, ballots)
        return found, ballots.eligible_voters(), [text for _id, text in inputs.statements]

    def answer(computed: tuple[OpinionGroups | None, int, list[str]]) -> None:
        found, eligible, statements = computed
        if found is None:
            blocks = [too_few(eligible, scope, everywhere)]
        else:
            blocks = groups_blocks(article, found, scope, statements)
        request.reply_blocks(blocks)

    # Up to a second at 100,000 voters: computed after this update's transaction, which
    # would otherwise make every writer wait on SQLite, and without holding up other chats;
    # the same question asked meanwhile (twenty /groups all) shares the computation.
    key = (article.id, chat_id, tuple((q.key, q.option_count) for q in article.questions))
    request.later("groups", key, compute, answer)


def register(app: AgoraApp) -> None:
    app.add_handler(command(GROUPS.names, show_groups))
