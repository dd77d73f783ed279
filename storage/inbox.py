"""The inbox: updates stored as Telegram sent them, before they are acknowledged.

An update is written here in one short transaction per batch (or per webhook request); once
that has committed, Telegram may forget it. The update is then handled from here: the
transaction that commits its effects deletes its row, so a row exists exactly while its
update waits. A row that cannot be handled is set aside with the reason, never tried forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BotState, HandledUpdate, InboxUpdate, affected, table
from storage.updates import LAST_UPDATE_ID, get_state

_inbox = table(InboxUpdate)
_state = table(BotState)


@dataclass(frozen=True, slots=True)
class Received:
    update_id: int
    chat_id: int | None
    body: str
    set_aside: str | None = None  # unreadable: stored for the record, never handled


@dataclass(frozen=True, slots=True)
class Waiting:
    update_id: int
    received_at: datetime
    attempts: int
    not_before: datetime | None


async def store(
    session: AsyncSession, updates: Sequence[Received], now: datetime, *, watermark: bool
) -> list[Received]:
    """Store the updates not received before; the new ones, in order.

    With `watermark` (long polling), the caller fetched them after the recorded last id, and
    that id moves to the batch's last in the same transaction: Telegram sends updates in
    order and sends again only those not acknowledged, so nothing at or below it comes back,
    and no handled id needs checking (webhooks record those: one may be posted again)."""
    if not updates:
        return []
    ids = [u.update_id for u in updates]
    dialect = session.get_bind().dialect.name
    if watermark and dialect == "sqlite":
        await _store_sqlite(session, updates, now, max(ids))
        return list(updates)
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    if watermark:
        fresh = list(updates)
    else:
        mark = await get_state(session, LAST_UPDATE_ID) or 0
        handled = set(
            await session.scalars(
                select(HandledUpdate.update_id).where(HandledUpdate.update_id.in_(ids))
            )
        )
        fresh = [u for u in updates if u.update_id > mark and u.update_id not in handled]
    if fresh:
        await session.execute(
            insert(_inbox).on_conflict_do_nothing(index_elements=["update_id"]),
            [
                {
                    "update_id": u.update_id,
                    "chat_id": u.chat_id,
                    "body": u.body,
                    "received_at": now,
                    "attempts": 0,
                    "set_aside": u.set_aside,
                }
                for u in fresh
            ],
        )
    if watermark:  # one statement: the hot path of a vote storm
        state = insert(_state).values(key=LAST_UPDATE_ID, value=max(ids))
        await session.execute(
            state.on_conflict_do_update(
                index_elements=["key"],
                set_={"value": func.max(_state.c.value, state.excluded.value)}
                if dialect == "sqlite"
                else {"value": func.greatest(_state.c.value, state.excluded.value)},
            )
        )
    return fresh


_SQLITE_STORE = (
    "INSERT INTO inbox (update_id, chat_id, body, received_at, attempts, set_aside) "
    "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (update_id) DO NOTHING"
)
_SQLITE_WATERMARK = (
    "INSERT INTO bot_state (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)"
)


async def _store_sqlite(
    session: AsyncSession, updates: Sequence[Received], now: datetime, last: int
) -> None:
    """`store` with a watermark on SQLite, the hot path of a vote storm: the two statements
    straight to the driver, two round trips to its thread instead of six (through
    SQLAlchemy, each statement opens, runs and closes a cursor, one round trip each), in
    the session's transaction all the same."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    received = _inbox.c.received_at.type.bind_processor(connection.dialect)
    at = received(now) if received is not None else now
    rows = [(u.update_id, u.chat_id, u.body, at, u.set_aside) for u in updates]
    await driver.executemany(_SQLITE_STORE, rows)
    await driver.execute(_SQLITE_WATERMARK, (LAST_UPDATE_ID, last))


async def forget_handled_below(session: AsyncSession, update_id: int) -> None:
    """Long polling: handled ids up to `update_id` can no longer come back."""
    await session.execute(delete(HandledUpdate).where(HandledUpdate.update_id <= update_id))


def bare_body(update_id: int) -> str:
    """What is kept of a set-aside update's body unless personal data may be kept: its id."""
    return f'{{"update_id":{update_id}}}'


async def set_aside(
    session: AsyncSession, update_id: int, reason: str, *, keep_body: bool = False
) -> bool:
    """No longer try this update; its body (names, texts) is dropped unless `keep_body`.
    False if its row is gone (handled meanwhile by another instance)."""
    values: dict[str, object] = {"set_aside": reason[:200], "not_before": None}
    if not keep_body:
        values["body"] = bare_body(update_id)
    result = await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.update_id == update_id, InboxUpdate.set_aside.is_(None))
        .values(**values)
    )
    return affected(result) > 0


async def purge_set_aside(session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.set_aside.is_not(None), InboxUpdate.received_at < before
        )
    )
    return affected(result)


@dataclass(frozen=True, slots=True)
class InboxSummary:
    waiting: int
    postponed: int  # waiting, not before a later time (a failed try, a poll not yet known)
    set_aside: int
    oldest: datetime | None  # received, of those waiting


async def summary(session: AsyncSession, now: datetime) -> InboxSummary:
    waiting, postponed, aside, oldest = (
        await session.execute(
            select(
                func.count().filter(_inbox.c.set_aside.is_(None)),
                func.count().filter(
                    _inbox.c.set_aside.is_(None), _inbox.c.not_before > now
                ),
                func.count().filter(_inbox.c.set_aside.is_not(None)),
                func.min(_inbox.c.received_at).filter(_inbox.c.set_aside.is_(None)),
            )
        )
    ).one()
    return InboxSummary(int(waiting), int(postponed), int(aside), oldest)


async def unsettled_up_to(session: AsyncSession, update_id: int) -> int:
    """How many updates up to `update_id` wait to be handled now (not postponed)."""
    found = await session.scalar(
        select(func.count()).where(
            _inbox.c.update_id <= update_id,
            _inbox.c.set_aside.is_(None),
            _inbox.c.not_before.is_(None),
        )
    )
    return int(found or 0)




async def last_waiting(session: AsyncSession) -> int | None:
    """The newest update that waits to be handled (set-aside ones apart), if any."""
    found = await session.scalar(
        select(func.max(_inbox.c.update_id)).where(_inbox.c.set_aside.is_(None))
    )
    return None if found is None else int(found)
