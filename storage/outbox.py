"""The outbox: Telegram calls written by the transaction that decided them, and their fate.

Query functions only (they never commit): the sender (bot.engine.sending) claims a pending
row, makes the call outside any transaction, then marks the row sent or dropped. A row's
method, priority and effect are data here: bot.engine.outbox and bot.engine.effects say what
they mean.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, affected

PENDING, SENT, DROPPED = "pending", "sent", "dropped"
CLAIM = timedelta(minutes=2)
KEEP_DONE = timedelta(days=3)  # sent and dropped rows are purged after this


def new_message(
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    *,
    priority: int,
    now: datetime,
    effect: dict[str, Any] | None = None,
    attachment: bytes | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        chat_id=chat_id,
        priority=priority,
        method=method,
        payload=payload,
        attachment=attachment,
        effect=effect,
        status=PENDING,
        attempts=0,
        created_at=now,
    )


async def pending_messages(
    session: AsyncSession, among: Sequence[int] | None = None, *, free_at: datetime | None = None
) -> list[tuple[int, int, int, str, datetime]]:
    """(id, chat, priority, method, queued at) of every pending row (or of those `among`
    these ids; or of those no sender holds `free_at` that time), oldest first."""
    query = (
        select(
            OutboxMessage.id,
            OutboxMessage.chat_id,
            OutboxMessage.priority,
            OutboxMessage.method,
            OutboxMessage.created_at,
        )
        .where(OutboxMessage.status == PENDING)
        .order_by(OutboxMessage.id)
    )
    if among is not None:
        query = query.where(OutboxMessage.id.in_(among))
    if free_at is not None:
        query = query.where(
            OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < free_at)
        )
    rows = await session.execute(query)
    return [(id_, chat, priority, method, at) for id_, chat, priority, method, at in rows]


async def claim(
    session: AsyncSession, message_ids: list[int], now: datetime
) -> dict[int, OutboxMessage]:
    """Take pending rows for sending, but those another sender holds (skipped, not waited
    for, on PostgreSQL) or that are no longer pending."""
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.status == PENDING,
            (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
        )
        .with_for_update(skip_locked=True)
    )
    taken = {}
    for row in rows:
        row.claimed_until = now + CLAIM
        row.attempts += 1
        taken[row.id] = row
    await session.flush()
    return taken


async def release_claims(session: AsyncSession) -> int:
    """Forget every claim: the sender starting now is the only one (see README)."""
    done = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == PENDING, OutboxMessage.claimed_until.is_not(None))
        .values(claimed_until=None)
    )
    return affected(done)


async def release(session: AsyncSession, message_id: int) -> None:
    """Give a claimed row back, to be tried again."""
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id).values(claimed_until=None)
    )


async def finish(
    session: AsyncSession, message_ids: list[int], status: str, now: datetime
) -> None:
    """Rows sent or dropped; a file they carried is not kept (an export can be 10 MiB)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .values(status=status, done_at=now, claimed_until=None, attachment=None)
    )


async def finish_sent(session: AsyncSession, message_ids: list[int], now: datetime) -> set[int]:
    """Mark rows sent; the ids of those not marked sent already (a mark tried again after a
    commit that was not confirmed finds its rows sent: what they taught is recorded)."""
    done = await session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status != SENT)
        .values(status=SENT, done_at=now, claimed_until=None, attachment=None)
        .returning(OutboxMessage.id)
    )
    return set(done)


async def count_messages(session: AsyncSession, row: OutboxMessage, messages: int) -> None:
    """Note that a row's call sent several messages (a chart's album: one per photo), as
    Telegram's flood limits count them: "messages" beside the effect, a key of storage's."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id)
        .values(effect={**(row.effect or {}), "messages": messages})
    )


async def sent_since(
    session: AsyncSession, since: datetime, *, besides: Collection[str] = ()
) -> list[tuple[int, datetime, int]]:
    """(chat, when marked sent, messages) of the rows sent since `since` but for the
    methods `besides` (calls that are not messages)."""
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.done_at, OutboxMessage.effect).where(
            OutboxMessage.status == SENT,
            OutboxMessage.done_at >= since,
            OutboxMessage.method.not_in(besides),
        )
    )
    return [
        (chat_id, done_at, int((effect or {}).get("messages", 1)))
        for chat_id, done_at, effect in rows
        if done_at is not None
    ]


async def readdress(session: AsyncSession, old_id: int, new_id: int) -> None:
    """Send what was queued for a group to the supergroup it became."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat_id == old_id, OutboxMessage.status == PENDING)
        .values(chat_id=new_id)
    )


async def purge(session: AsyncSession, before: datetime) -> int:
    """Delete rows sent or dropped before `before`."""
    done = await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status != PENDING, OutboxMessage.done_at < before
        )
    )
    return affected(done)


async def pending_effects(
    session: AsyncSession, chat_id: int, method: str
) -> list[dict[str, Any] | None]:
    """The effects of the chat's pending calls of `method`."""
    effects = await session.scalars(
        select(OutboxMessage.effect).where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.method == method,
        )
    )
    return list(effects)


async def summary(session: AsyncSession) -> tuple[dict[tuple[str, int], int], datetime | None]:
    """Rows per (status, priority), and when the oldest pending row was queued."""
    rows = await session.execute(
        select(OutboxMessage.status, OutboxMessage.priority, func.count()).group_by(
            OutboxMessage.status, OutboxMessage.priority
        )
    )
    oldest = await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == PENDING)
    )
    return {(status, priority): int(count) for status, priority, count in rows}, oldest


async def recent_payloads(
    session: AsyncSession, chat_id: int, method: str, *, recent: int = 50
) -> list[dict[str, Any]]:
    """The parameters of the chat's `recent` last calls of `method` not dropped (pending or
    sent), the latest first."""
    payloads = await session.scalars(
        select(OutboxMessage.payload)
        .where(
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.method == method,
            OutboxMessage.status != DROPPED,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(recent)
    )
    return list(payloads)


async def redact_done(session: AsyncSession, message_ids: Sequence[int] | None = None) -> int:
    """Empty the parameters, effect and file of rows sent or dropped (all of them, or those of
    `message_ids`): once a call is made, what it said (names, opinions) is no longer needed.
    Method, chat, priority, status and times stay, for the counts of `python -m bot outbox`."""
    from sqlalchemy import Text, cast

    query = update(OutboxMessage).where(
        OutboxMessage.status != PENDING, cast(OutboxMessage.payload, Text) != "{}"
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    done = await session.execute(
        query.values(payload={}, effect=None, attachment=None).execution_options(
            synchronize_session=False
        )
    )
    return affected(done)


async def pending_rows(
    session: AsyncSession, *, chat_id: int | None = None, priority: int | None = None
) -> list[OutboxMessage]:
    """Every row still waiting to be sent (or those of a chat, of a priority), with what it
    will say, oldest first."""
    query = select(OutboxMessage).where(OutboxMessage.status == PENDING)
    if chat_id is not None:
        query = query.where(OutboxMessage.chat_id == chat_id)
    if priority is not None:
        query = query.where(OutboxMessage.priority == priority)
    return list(await session.scalars(query.order_by(OutboxMessage.id)))
