"""What opinion groups are found from (the poll answers and the most rated opinions of a
chat's voters, or of all chats'), and finding them one computation at a time: /groups and
the report's groups (bot.report.groups) share the lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Article
from bot.insights.answer_sets import Ballots
from bot.insights.opinion_groups import OpinionGroups, describe
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
