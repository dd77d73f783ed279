"""/groups [/camps]: opinion groups among the voters of the chat (or of all chats), what sets
each apart, what they share, and the question that divides them most."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import AgoraApp
from bot.core.commands import ALL_CHATS_WORDS, GROUPS
from bot.core.content import Article
from bot.core.refusals import Unclear
from bot.insights.answer_sets import Ballots
from bot.insights.groups_text import groups_blocks, scope_text, too_few, usage
from bot.insights.opinion_groups import OpinionGroups, describe
from handlers.common import command
from handlers.request import Request, handles
from storage.insights import answer_patterns, rated_statements

CLUSTERING = threading.Lock()
STATEMENTS = 12  # the most rated opinions, weighed like questions
STATEMENT_RATERS = 3  # raters an opinion needs to be one of them


@dataclass(frozen=True, slots=True)
class GroupInputs:
    """What opinion groups are found from: the poll questions (key, options), the rated
    statements (opinion id, text), and each distinct set of answers with its voters."""

    questions: list[tuple[str, int]]
    statements: list[tuple[int, str]]
    patterns: list[tuple[int, int]]

    @property
    def statement_ids(self) -> list[int]:
        return [opinion for opinion, _text in self.statements]

    def ballots(self) -> Ballots:
        options = [count for _key, count in self.questions] + [3] * len(self.statements)
        return Ballots.of_patterns(options, self.patterns, len(self.questions))


async def group_inputs(
    session: AsyncSession, article: Article, chat_id: int | None
) -> GroupInputs:
    """The answers and ratings of the chat's (None: all chats') voters on the article."""
    questions = [(question.key, question.option_count) for question in article.questions]
    statements = await rated_statements(
        session, article.id, chat_id, STATEMENTS, STATEMENT_RATERS
    )
    ids = [opinion for opinion, _text in statements]
    patterns = await answer_patterns(session, article.id, chat_id, questions, ids)
    return GroupInputs(questions, statements, patterns)


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
