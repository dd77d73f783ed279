"""All-chats totals per article question: created with the first poll of a question, moved
by the same deltas as the polls' own counts, so reading them costs a few rows."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import execute_many
from storage.models import OptionTotal, QuestionTotal, ResultSnapshot, table

_questions = table(QuestionTotal)
_options = table(OptionTotal)

_ADD_VOTERS = (
    _questions.update()
    .where(
        _questions.c.article_id == bindparam("b_article"),
        _questions.c.question_key == bindparam("b_question"),
    )
    .values(voters=_questions.c.voters + bindparam("b_delta"))
)
_ADD_VOTES = (
    _options.update()
    .where(
        _options.c.article_id == bindparam("b_article"),
        _options.c.question_key == bindparam("b_question"),
        _options.c.option_index == bindparam("b_index"),
    )
    .values(votes=_options.c.votes + bindparam("b_delta"))
)

QuestionKey = tuple[str, str]  # (article id, question key)


async def ensure_totals(
    session: AsyncSession, article_id: str, question_key: str, option_count: int, now: datetime
) -> None:
    """Create the question's total rows (zero) if this is its first poll anywhere, and the
    first snapshot of its history (storage.history): zero at `now`."""
    known = set(
        await session.scalars(
            select(_options.c.option_index).where(
                _options.c.article_id == article_id, _options.c.question_key == question_key
            )
        )
    )
    if not known:
        await session.execute(
            _questions.insert(),
            [{"article_id": article_id, "question_key": question_key, "voters": 0}],
        )
        session.add(
            ResultSnapshot(
                article_id=article_id,
                question_key=question_key,
                taken_at=now.astimezone(UTC),
                voters=0,
                votes=[0] * option_count,
            )
        )
    missing = [i for i in range(option_count) if i not in known]
    if missing:
        await session.execute(
            _options.insert(),
            [
                {
                    "article_id": article_id,
                    "question_key": question_key,
                    "option_index": i,
                    "votes": 0,
                }
                for i in missing
            ],
        )


async def add_to_totals(
    session: AsyncSession,
    voters: Counter[QuestionKey],
    votes: Counter[tuple[str, str, int]],
) -> None:
    """Move the totals by the given deltas (does not commit)."""
    voter_rows = [
        {"b_article": article, "b_question": question, "b_delta": delta}
        for (article, question), delta in sorted(voters.items())  # one order: no deadlock
        if delta
    ]
    await execute_many(session, _ADD_VOTERS, voter_rows)
    vote_rows = [
        {"b_article": article, "b_question": question, "b_index": index, "b_delta": delta}
        for (article, question, index), delta in sorted(votes.items())
        if delta
    ]
    await execute_many(session, _ADD_VOTES, vote_rows)


async def read_totals(
    session: AsyncSession, article_id: str
) -> tuple[dict[str, int], dict[str, dict[int, int]]]:
    """Voters per question, and votes per option per question, all chats together."""
    voters = {
        key: int(count)
        for key, count in await session.execute(
            select(_questions.c.question_key, _questions.c.voters).where(
                _questions.c.article_id == article_id
            )
        )
    }
    votes: dict[str, dict[int, int]] = {}
    rows = await session.execute(
        select(_options.c.question_key, _options.c.option_index, _options.c.votes).where(
            _options.c.article_id == article_id
        )
    )
    for key, index, count in rows:
        votes.setdefault(key, {})[index] = int(count)
    return voters, votes
