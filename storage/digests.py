"""Digest settings and the record of sent digests: query functions that never commit. A digest
record keeps numbers only; its text, excerpts of opinions included, lives in its outbox rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, SentDigest, affected

SENDING, SENT, FAILED = "sending", "sent", "failed"


async def has_daily_digest(session: AsyncSession, chat_id: int, day: date) -> bool:
    found = await session.scalar(
        select(SentDigest.id).where(SentDigest.chat_id == chat_id, SentDigest.daily_date == day)
    )
    return found is not None


async def daily_digest_after(session: AsyncSession, chat_id: int, moment: datetime) -> bool:
    """Whether a daily digest of the chat began at `moment` or later, and did not fail."""
    found = await session.scalar(
        select(SentDigest.id)
        .where(
            SentDigest.chat_id == chat_id,
            SentDigest.daily_date.is_not(None),
            SentDigest.started_at >= moment,
            SentDigest.status != FAILED,
        )
        .limit(1)
    )
    return found is not None


async def daily_digests_since(session: AsyncSession, day: date) -> set[tuple[int, date]]:
    """(chat, day) of every daily digest recorded for `day` or later."""
    rows = await session.execute(
        select(SentDigest.chat_id, SentDigest.daily_date).where(SentDigest.daily_date >= day)
    )
    return {(chat_id, daily) for chat_id, daily in rows if daily is not None}


async def previous_digest(session: AsyncSession, chat_id: int) -> SentDigest | None:
    """The chat's latest digest that went out, to show what changed since."""
    return await session.scalar(
        select(SentDigest)
        .where(SentDigest.chat_id == chat_id, SentDigest.status == SENT)
        .order_by(SentDigest.started_at.desc(), SentDigest.id.desc())
        .limit(1)
    )


async def digest_before(session: AsyncSession, chat_id: int, day: date) -> SentDigest | None:
    """The chat's latest digest sent before `day` (local dates), for the change since then."""
    return await session.scalar(
        select(SentDigest)
        .where(
            SentDigest.chat_id == chat_id,
            SentDigest.status == SENT,
            SentDigest.local_date < day,
        )
        .order_by(SentDigest.local_date.desc(), SentDigest.started_at.desc())
        .limit(1)
    )


async def digests_since(
    session: AsyncSession, chat_id: int, day: date
) -> list[tuple[date, dict[str, Any]]]:
    """(local date, numbers) of the chat's digests sent on `day` or later, oldest first: the
    chart's trends."""
    rows = await session.execute(
        select(SentDigest.local_date, SentDigest.numbers)
        .where(
            SentDigest.chat_id == chat_id,
            SentDigest.status == SENT,
            SentDigest.local_date >= day,
        )
        .order_by(SentDigest.local_date, SentDigest.started_at, SentDigest.id)
    )
    return [(local_date, numbers) for local_date, numbers in rows]


async def claim_digest(
    session: AsyncSession,
    *,
    chat_id: int,
    local_date: date,
    daily: bool,
    started_at: datetime,
    numbers: dict[str, Any],
) -> SentDigest | None:
    """Record a digest about to be sent; None if that day's daily digest is already recorded
    (the unique (chat, daily date) pair decides, so two deliveries cannot both claim it)."""
    record = SentDigest(
        chat_id=chat_id,
        local_date=local_date,
        daily_date=local_date if daily else None,
        status=SENDING,
        started_at=started_at,
        numbers=numbers,
    )
    try:
        async with session.begin_nested():
            session.add(record)
    except IntegrityError:  # another delivery of the same day won the race
        return None
    return record


async def finish_digest(
    session: AsyncSession, digest_id: int, status: str, sent_at: datetime | None
) -> bool:
    """A digest being sent ends sent or failed, once (a later message changes nothing);
    whether it ended now."""
    done = await session.execute(
        update(SentDigest)
        .where(SentDigest.id == digest_id, SentDigest.status == SENDING)
        .values(status=status, sent_at=sent_at)
    )
    return affected(done) > 0


async def last_on_demand(session: AsyncSession, chat_id: int) -> datetime | None:
    """When the chat last asked for a digest outside the daily one ("/digest now"), read once
    the chat's row is locked (until the transaction ends; SQLite: the transaction already
    holds the write lock): two requests at the same time take turns, and the second reads the
    digest the first recorded."""
    await session.execute(select(Chat.id).where(Chat.id == chat_id).with_for_update(key_share=True))
    return await session.scalar(
        select(func.max(SentDigest.started_at)).where(
            SentDigest.chat_id == chat_id, SentDigest.daily_date.is_(None)
        )
    )
