"""The report's history. Every quarter of an hour the leading instance records each article's
all-chats results that changed (storage.history); the report reads them back as days in its
time zone: the voters at each day's end and those new that day, the opinions written each
day, and each question's results at the end of the last TREND_DAYS days (the leader's trend).

A question's first snapshot is its zero, written with its first poll (storage.polls): a
history that starts with more than zero voters began after the article's first polls (an
older deployment), and the days before it are unknown rather than empty."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests.drawing.style import TREND_DAYS
from storage.db import Database
from storage.history import (
    Snapshot,
    articles_with_totals,
    day_ends,
    earliest,
    opinions_per_hour,
    record_results,
)
from storage.polls import QuestionTally, article_results

log = logging.getLogger(__name__)

RECORD_EVERY = 900.0  # seconds between two snapshots of the results
DAYS_SHOWN = 30  # days of the participation chart, today's included

State = tuple[int, list[int]]  # a question's voters and votes per option


@dataclass(frozen=True, slots=True)
class Day:
    """One day of an article's participation, in all chats. `voters` (those of the most
    answered question at the day's end; today: now) and `new_voters` are None when the
    history does not reach back that far."""

    day: date
    voters: int | None
    new_voters: int | None
    opinions: int


@dataclass(frozen=True, slots=True)
class History:
    days: list[Day] = field(default_factory=list)
    # Per question: its results at the end of each of the last TREND_DAYS days it had a
    # known state, oldest first, today's (the live figures) last.
    ends: dict[str, list[tuple[date, QuestionTally]]] = field(default_factory=dict)


def next_record(now: datetime) -> float:
    """Seconds until the next snapshot: 20 s before each quarter of an hour, so that the
    last one of a day (23:59:40) counts nearly all of its votes."""
    quarter = RECORD_EVERY
    into = (now.timestamp() + 20.0) % quarter
    return quarter - into


def _state(tally: QuestionTally) -> State:
    return tally.voters, [tally.votes.get(i, 0) for i in range(max(tally.votes, default=-1) + 1)]


async def record_history(database: Database, now: datetime) -> int:
    """Record every article's results that changed since their last snapshot; rows written
    (a database error is logged: the next quarter of an hour tries again)."""
    written = 0
    try:
        async with database.read() as session:
            articles = await articles_with_totals(session)
        for article_id in articles:
            async with database.transaction() as session:
                results = await article_results(session, article_id)
                states = {key: _state(tally) for key, tally in results.items()}
                written += await record_results(session, article_id, states, now)
    except SQLAlchemyError as exc:
        log.warning("results history not recorded (%s); next quarter", type(exc).__name__)
    return written


def _start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _unknown_until(
    firsts: list[Snapshot], live: dict[str, QuestionTally], now: datetime
) -> datetime | None:
    """Until when the history is unknown: the first snapshot of a question that already
    counted voters (its zero was never recorded); now if there are votes and no history."""
    if not firsts:
        return now if any(tally.voters for tally in live.values()) else None
    return max((s.taken_at for s in firsts if s.voters), default=None)


async def _opinions_per_day(
    session: AsyncSession, article_id: str, since: datetime, zone: ZoneInfo
) -> dict[date, int]:
    written: dict[date, int] = {}
    for hour, count in await opinions_per_hour(session, article_id, since):
        day = hour.astimezone(zone).date()
        written[day] = written.get(day, 0) + count
    return written


async def read_history(
    session: AsyncSession,
    article_id: str,
    zone: ZoneInfo,
    now: datetime,
    live: dict[str, QuestionTally],
) -> History:
    """The last DAYS_SHOWN days of the article (from its first known one), today's figures
    being `live` (the report's own: storage.polls.article_results)."""
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS_SHOWN - 1)
    boundaries = [_start(first + timedelta(days=n), zone) for n in range(DAYS_SHOWN + 1)]
    before, changes = await day_ends(session, article_id, boundaries)
    unknown = _unknown_until(await earliest(session, article_id), live, now)
    written = await _opinions_per_day(session, article_id, boundaries[0], zone)
    states: dict[str, State] = {s.question_key: (s.voters, s.votes) for s in before}
    days: list[Day] = []
    ends: dict[str, list[tuple[date, QuestionTally]]] = {}
    previous: int | None = max((v for v, _ in states.values()), default=0)
    for offset in range(DAYS_SHOWN):
        day, end = first + timedelta(days=offset), boundaries[offset + 1]
        states |= {s.question_key: (s.voters, s.votes) for s in changes.get(offset + 1, [])}
        if day == today:
            states = {key: _state(tally) for key, tally in live.items()}
        voters: int | None = max((v for v, _ in states.values()), default=0)
        if unknown is not None and end <= unknown:
            voters = None
        new = None if voters is None or previous is None else max(voters - previous, 0)
        days.append(Day(day, voters, new, written.get(day, 0)))
        previous = voters
        if offset >= DAYS_SHOWN - TREND_DAYS and voters is not None:
            for key, (count, votes) in states.items():
                tally = QuestionTally(count, dict(enumerate(votes)))
                ends.setdefault(key, []).append((day, tally))
    while days and not days[0].voters and not days[0].opinions:
        days.pop(0)  # before the article's first votes and opinions
    return History(days, ends)
