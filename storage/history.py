"""The report's history (result_snapshots): each question's results in all chats, recorded
when they changed, and read back over a window; and the opinions written per hour. Query
functions: they take a session and never commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Opinion, QuestionTotal, ResultSnapshot


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A question's voters and votes per option in all chats, as they stood at `taken_at`."""

    question_key: str
    taken_at: datetime
    voters: int
    votes: list[int]


def utc(moment: datetime) -> datetime:
    """SQLite gives back moments without their zone: they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
    rows = await session.execute(
        select(
            ResultSnapshot.question_key,
            ResultSnapshot.taken_at,
            ResultSnapshot.voters,
            ResultSnapshot.votes,
        ).where(
            ResultSnapshot.article_id == article_id,
            tuple_(ResultSnapshot.question_key, ResultSnapshot.taken_at).in_(
                last.group_by(ResultSnapshot.question_key)
            ),
        )
    )
    return [Snapshot(key, utc(taken), voters, list(votes)) for key, taken, voters, votes in rows]


async def record_results(
    session: AsyncSession,
    article_id: str,
    results: Mapping[str, tuple[int, list[int]]],
    now: datetime,
) -> int:
    """Record each question's (voters, votes per option) that differ from its last snapshot
    (unless that one is not older than `now`); how many rows were written."""
    now = now.astimezone(UTC)  # SQLite keeps a moment's wall time, not its zone
    latest = {s.question_key: s for s in await _latest(session, article_id, None)}
    known = {key: (s.voters, s.votes) for key, s in latest.items()}
    # A snapshot dated by Telegram (a poll's zero) may be a little ahead of this clock.
    ahead = {key for key, s in latest.items() if s.taken_at >= now}
    changed = [
        {
            "article_id": article_id,
            "question_key": key,
            "taken_at": now,
            "voters": voters,
            "votes": votes,
        }
        for key, (voters, votes) in sorted(results.items())
        if known.get(key) != (voters, votes) and key not in ahead
    ]
    if changed:
        await session.execute(insert(ResultSnapshot), changed)
    return len(changed)


async def snapshots_since(
    session: AsyncSession, article_id: str, since: datetime
) -> tuple[list[Snapshot], list[Snapshot]]:
    """Each question's state at `since` (its last snapshot before, if any), and the snapshots
    taken since, oldest first."""
    rows = await session.execute(
        select(
            ResultSnapshot.question_key,
            ResultSnapshot.taken_at,
            ResultSnapshot.voters,
            ResultSnapshot.votes,
        )
        .where(ResultSnapshot.article_id == article_id, ResultSnapshot.taken_at >= since)
        .order_by(ResultSnapshot.taken_at, ResultSnapshot.question_key)
    )
    later = [Snapshot(key, utc(taken), voters, list(votes)) for key, taken, voters, votes in rows]
    return await _latest(session, article_id, since), later


async def opinions_per_hour(
    session: AsyncSession, article_id: str, since: datetime
) -> list[tuple[datetime, int]]:
    """How many of the article's opinions were written in each hour (UTC) since `since`
    (deleted ones are gone): a few hundred rows, counted by the database from its index."""
    if session.get_bind().dialect.name == "sqlite":
        hour = func.strftime("%Y-%m-%d %H:00:00", Opinion.created_at)
    else:
        hour = func.date_trunc("hour", func.timezone("UTC", Opinion.created_at))
    rows = await session.execute(
        select(hour, func.count())
        .where(Opinion.article_id == article_id, Opinion.created_at >= since)
        .group_by(hour)
    )
    counted = []
    for start, count in rows:
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        counted.append((moment.replace(tzinfo=UTC), int(count)))
    return counted
