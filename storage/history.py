"""The report's history (result_snapshots): each question's results in all chats, recorded
when they changed, and read back over a window; and the opinions written per hour. Query
functions: they take a session and never commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Opinion, QuestionTotal, ResultSnapshot, as_utc


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A question's voters and votes per option in all chats, as they stood at `taken_at`."""

    question_key: str
    taken_at: datetime
    voters: int
    votes: list[int]


async def articles_with_totals(session: AsyncSession) -> list[str]:
    """The articles whose polls were posted somewhere: those with all-chats totals."""
    return list(
        await session.scalars(select(QuestionTotal.article_id).distinct().order_by("article_id"))
    )


async def _latest(
    session: AsyncSession, article_id: str, before: datetime | None
) -> list[Snapshot]:
    """Each question's last snapshot (before `before`, if given)."""
    last = select(ResultSnapshot.question_key, func.max(ResultSnapshot.taken_at)).where(
        ResultSnapshot.article_id == article_id
    )
    if before is not None:
        last = last.where(ResultSnapshot.taken_at < before)
    return await _snapshots(session, article_id, last.group_by(ResultSnapshot.question_key))


async def _snapshots(session: AsyncSession, article_id: str, which: Any) -> list[Snapshot]:
    """The snapshots whose (question key, moment) `which` selects (a select of two columns,
    typed differently by SQLAlchemy 2.0 and 2.1)."""
    rows = await session.execute(
        select(
            ResultSnapshot.question_key,
            ResultSnapshot.taken_at,
            ResultSnapshot.voters,
            ResultSnapshot.votes,
        ).where(
            ResultSnapshot.article_id == article_id,
            tuple_(ResultSnapshot.question_key, ResultSnapshot.taken_at).in_(which),
        )
    )
    return [Snapshot(key, as_utc(taken), voters, list(votes)) for key, taken, voters, votes in rows]


async def record_results(
    session: AsyncSession,
    article_id: str,
    results: Mapping[str, tuple[int, list[int]]],
    now: datetime,
) -> int:
    """Record each question's (voters, votes per option) that differ from its last snapshot
    (unless that one is not older than `now`): the hour's snapshot replaced, so that an hour
    keeps one row, its last (a question's zero is kept: it says its history is complete).
    How many questions were recorded."""
    now = now.astimezone(UTC)  # SQLite keeps a moment's wall time, not its zone
    hour = now.replace(minute=0, second=0, microsecond=0)
    latest = {s.question_key: s for s in await _latest(session, article_id, None)}
    recorded = 0
    for key, (voters, votes) in sorted(results.items()):
        last = latest.get(key)
        if last is not None and (
            last.taken_at >= now or (last.voters, last.votes) == (voters, votes)
        ):  # unchanged, or a snapshot dated by Telegram a little ahead of this clock
            continue
        values = {"taken_at": now, "voters": voters, "votes": votes}
        if last is not None and last.voters and last.taken_at >= hour:
            await session.execute(
                update(ResultSnapshot)
                .where(
                    ResultSnapshot.article_id == article_id,
                    ResultSnapshot.question_key == key,
                    ResultSnapshot.taken_at == last.taken_at,
                )
                .values(values)
            )
        else:
            await session.execute(
                insert(ResultSnapshot), [{"article_id": article_id, "question_key": key, **values}]
            )
        recorded += 1
    return recorded


async def earliest(session: AsyncSession, article_id: str) -> list[Snapshot]:
    """Each question's first snapshot: zero if its history began with its first poll."""
    first = (
        select(ResultSnapshot.question_key, func.min(ResultSnapshot.taken_at))
        .where(ResultSnapshot.article_id == article_id)
        .group_by(ResultSnapshot.question_key)
    )
    return await _snapshots(session, article_id, first)


async def day_ends(
    session: AsyncSession, article_id: str, boundaries: list[datetime]
) -> tuple[list[Snapshot], dict[int, list[Snapshot]]]:
    """Each question's state at boundaries[0] (its last snapshot before it), and for each
    i >= 1 its last snapshot between boundaries[i - 1] and boundaries[i], if any: the
    database picks them (a few hundred rows at most, whatever the history holds)."""
    table = ResultSnapshot
    bucket = case(
        *[(table.taken_at < moment, index) for index, moment in enumerate(boundaries[1:], 1)],
        else_=len(boundaries),
    ).label("bucket")
    rank = func.row_number().over(
        partition_by=(table.question_key, bucket), order_by=table.taken_at.desc()
    )
    ranked = (
        select(table.question_key, table.taken_at, table.voters, table.votes, bucket)
        .add_columns(rank.label("n"))
        .where(
            table.article_id == article_id,
            table.taken_at >= boundaries[0],
            table.taken_at < boundaries[-1],
        )
        .subquery()
    )
    rows = await session.execute(
        select(
            ranked.c.question_key,
            ranked.c.taken_at,
            ranked.c.voters,
            ranked.c.votes,
            ranked.c.bucket,
        ).where(ranked.c.n == 1)
    )
    ends: dict[int, list[Snapshot]] = {}
    for key, taken, voters, votes, index in rows:
        ends.setdefault(int(index), []).append(Snapshot(key, as_utc(taken), voters, list(votes)))
    return await _latest(session, article_id, boundaries[0]), ends


async def opinions_per_hour(
    session: AsyncSession, article_id: str, since: datetime
) -> list[tuple[datetime, int]]:
    """How many of the article's opinions were written in each hour (UTC) since `since`
    (deleted ones are gone): a few hundred rows, counted by the database from its index."""
    if session.get_bind().dialect.name == "sqlite":
        # "2026-12-02 21:54:15.123456": its first 13 characters are its hour, in UTC
        hour = func.substr(Opinion.created_at, 1, 13)
    else:
        hour = func.date_trunc("hour", func.timezone("UTC", Opinion.created_at))
    rows = await session.execute(
        select(hour, func.count())
        .where(Opinion.article_id == article_id, Opinion.created_at >= since)
        .group_by(hour)
    )
    counted = []
    for start, count in rows:
        moment = datetime.fromisoformat(start + ":00") if isinstance(start, str) else start
        counted.append((moment.replace(tzinfo=UTC), int(count)))
    return counted
