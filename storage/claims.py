"""What the inbox has due, and claiming it: a chat's oldest update (looked up and claimed in
one statement), the chatless updates in bulk, the chats with updates waiting, and putting an
update off. Query functions: they take a session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inbox import Waiting
from storage.models import InboxUpdate, PostedPoll, table

_inbox = table(InboxUpdate)


def _due(now: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Waiting, and not postponed beyond `now`."""
    return (
        _inbox.c.set_aside.is_(None),
        or_(_inbox.c.not_before.is_(None), _inbox.c.not_before <= now),
    )


async def head_of_chat(session: AsyncSession, chat_id: int) -> tuple[Waiting, str] | None:
    """The chat's oldest waiting update (due or not: the chat's order comes first), and its
    body: read when its claim failed (the row, which the claim names only by its chat, is
    then postponed or set aside)."""
    row = (
        await session.execute(
            select(
                _inbox.c.update_id,
                _inbox.c.received_at,
                _inbox.c.attempts,
                _inbox.c.not_before,
                _inbox.c.body,
            )
            .where(_inbox.c.chat_id == chat_id, _inbox.c.set_aside.is_(None))
            .order_by(_inbox.c.update_id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    update_id, received_at, attempts, not_before, body = row
    return Waiting(update_id, received_at, attempts, not_before), body


async def claim_head(
    session: AsyncSession, chat_id: int, now: datetime
) -> tuple[Waiting, str] | None:
    """Delete, in the transaction that handles it, the chat's oldest waiting update if it is
    due; that row and its body. None if the chat has nothing waiting, or if its oldest update
    is postponed beyond `now` (the chat's order comes first: nothing behind it is taken). One
    statement: the head's look-up and its claim (on PostgreSQL after the chat's turn, so no
    other instance takes the same row meanwhile)."""
    head = (
        select(_inbox.c.update_id)
        .where(_inbox.c.chat_id == chat_id, _inbox.c.set_aside.is_(None))
        .order_by(_inbox.c.update_id)
        .limit(1)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            delete(_inbox)
            .where(
                _inbox.c.update_id == head,
                or_(_inbox.c.not_before.is_(None), _inbox.c.not_before <= now),
            )
            .returning(
                _inbox.c.update_id,
                _inbox.c.received_at,
                _inbox.c.attempts,
                _inbox.c.not_before,
                _inbox.c.body,
            )
        )
    ).first()
    if row is None:
        return None
    update_id, received_at, attempts, not_before, body = row
    return Waiting(update_id, received_at, attempts, not_before), body


async def due_chatless(session: AsyncSession, now: datetime, limit: int) -> list[Waiting]:
    """Poll answers and other updates without a chat that are due, oldest first."""
    rows = await session.execute(
        select(_inbox.c.update_id, _inbox.c.received_at, _inbox.c.attempts, _inbox.c.not_before)
        .where(_inbox.c.chat_id.is_(None), *_due(now))
        .order_by(_inbox.c.update_id)
        .limit(limit)
    )
    return [Waiting(*row) for row in rows]


async def postponed_chatless(
    session: AsyncSession, now: datetime, below: int
) -> dict[int, str]:
    """The bodies, by update id, of the updates without a chat, older than `below`, that wait
    beyond `now` (a failed try, a poll not recorded yet): a later answer of the same voter to
    the same poll must not overtake them."""
    rows = await session.execute(
        select(_inbox.c.update_id, _inbox.c.body).where(
            _inbox.c.chat_id.is_(None),
            _inbox.c.set_aside.is_(None),
            _inbox.c.not_before > now,
            _inbox.c.update_id < below,
        )
    )
    return {update_id: body for update_id, body in rows}


async def due_chats(session: AsyncSession, now: datetime, limit: int) -> tuple[list[int], bool]:
    """Chats with an update due (at most `limit`), and whether chatless updates are due."""
    rows = await session.scalars(
        select(_inbox.c.chat_id).where(*_due(now)).group_by(_inbox.c.chat_id).limit(limit + 1)
    )
    chats = list(rows)
    return [c for c in chats if c is not None][:limit], None in chats


async def bodies(session: AsyncSession, update_ids: Sequence[int]) -> dict[int, str]:
    if not update_ids:
        return {}
    rows = await session.execute(
        select(_inbox.c.update_id, _inbox.c.body).where(_inbox.c.update_id.in_(update_ids))
    )
    return {update_id: body for update_id, body in rows}


async def claim(session: AsyncSession, update_ids: Sequence[int]) -> set[int]:
    """Delete the rows of updates being handled, in the transaction that handles them; the
    ids really deleted (on PostgreSQL another instance may have handled one meanwhile: its
    row was locked, then gone)."""
    if not update_ids:
        return set()
    result = await session.execute(
        delete(InboxUpdate)
        .where(InboxUpdate.update_id.in_(update_ids), InboxUpdate.set_aside.is_(None))
        .returning(InboxUpdate.update_id)
    )
    return set(result.scalars())


async def postpone(session: AsyncSession, update_ids: Sequence[int], until: datetime) -> None:
    """Try these again not before `until`, one failed try more."""
    if update_ids:
        await session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id.in_(update_ids))
            .values(attempts=InboxUpdate.attempts + 1, not_before=until)
        )


async def known_polls(session: AsyncSession, poll_ids: set[str]) -> set[str]:
    """Which of these polls are recorded (an answer to another one waits a little)."""
    if not poll_ids:
        return set()
    return set(
        await session.scalars(select(PostedPoll.poll_id).where(PostedPoll.poll_id.in_(poll_ids)))
    )
