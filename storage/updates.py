"""What is kept about updates: which were handled, a chat's turn, and the bot's state values
(the last update id, an anonymous poll's last applied state). Query functions: they take a
session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BotState, HandledUpdate, affected

LAST_UPDATE_ID = "last_update_id"


async def get_state(session: AsyncSession, key: str) -> int | None:
    return await session.scalar(select(BotState.value).where(BotState.key == key))


async def set_state(session: AsyncSession, key: str, value: int) -> None:
    row = await session.get(BotState, key)
    if row is None:
        session.add(BotState(key=key, value=value))
    else:
        row.value = value


async def handled_among(session: AsyncSession, update_ids: Sequence[int]) -> set[int]:
    """Which of these updates were already handled (committed before a crash or a retry)."""
    if not update_ids:
        return set()
    found = await session.scalars(
        select(HandledUpdate.update_id).where(HandledUpdate.update_id.in_(update_ids))
    )
    return set(found)


async def mark_handled(session: AsyncSession, update_ids: Sequence[int]) -> None:
    if update_ids:
        now = datetime.now(UTC)
        await session.execute(
            insert(HandledUpdate), [{"update_id": u, "handled_at": now} for u in update_ids]
        )


async def forget_handled(session: AsyncSession, before: datetime) -> int:
    """Forget the updates handled before `before`: Telegram no longer redelivers them (it
    keeps an update 24 hours). Long polling forgets them sooner, at each batch's mark."""
    result = await session.execute(
        delete(HandledUpdate).where(HandledUpdate.handled_at < before)
    )
    return affected(result)


async def take_turn(session: AsyncSession, key: int) -> None:
    """Hold a chat's turn until the transaction ends, so that no other transaction, in this
    process or another, handles an update of the same chat meanwhile (PostgreSQL: an
    advisory transaction lock on the chat id; SQLite has one writer at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(key)))
