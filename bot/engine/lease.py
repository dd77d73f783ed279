"""Which instance sends: a lease held in PostgreSQL, so that among several instances on one
database exactly one runs the sender, the digest schedule and the announcements.

The lease is a session advisory lock taken on a connection of its own. PostgreSQL releases it
the moment that connection ends: at once when the process dies (its socket is closed), within
about 11 s when its machine vanishes (TCP keepalives, set on the connection); the others try
to take it every 2 s, so one of them takes over within 15 s. The holder checks its connection
every 3 s and stops sending as soon as it fails, before PostgreSQL can give the lease to
another; it then tries to take the lease again every 2 s: taken (PostgreSQL restarted, and no
one else took it), it sends again; refused (another instance leads now), the process exits,
for its supervisor to restart it.

The same connection carries the other instances' news to the holder (LISTEN/NOTIFY): the ids
of outbox rows they queued, and the chats whose digest settings they changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

# The two-integer form of advisory locks never meets the one-bigint form used for the chats'
# turns (storage.updates.take_turn): no chat id can stand for the lease.
LEASE_KEY = (0x41676F72, 1)  # "Agor", lease number 1
TRY_EVERY = 2.0
CHECK_EVERY = 3.0
# A dead peer is noticed after idle + interval * count seconds (5 + 2 * 3 = 11).
KEEPALIVES = {
    "tcp_keepalives_idle": "5",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
}

OUTBOX_CHANNEL = "agora_outbox"
SCHEDULE_CHANNEL = "agora_schedule"
# NOTIFY payloads stop at 8,000 bytes: past this, "everything pending" is said instead.
PAYLOAD_LIMIT = 7000
EVERYTHING = "*"


def plain_url(url: str) -> str:
    """The DSN asyncpg reads, from the SQLAlchemy URL (postgresql+asyncpg://…)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def publish_queued(session: AsyncSession, ids: list[int]) -> None:
    """Tell the holder of the lease, when this transaction commits, about the rows queued."""
    payload = ",".join(map(str, ids))
    if len(payload) > PAYLOAD_LIMIT:
        payload = EVERYTHING
    await session.execute(select(func.pg_notify(OUTBOX_CHANNEL, payload)))


async def publish_schedule(session: AsyncSession, chat_id: int) -> None:
    """Tell the holder of the lease that the chat's digest settings changed."""
    await session.execute(select(func.pg_notify(SCHEDULE_CHANNEL, str(chat_id))))


def queued_ids(payload: str) -> list[int] | None:
    """The outbox ids of a notification; None for "read everything pending"."""
    if payload == EVERYTHING:
        return None
    return [int(part) for part in payload.split(",") if part.strip().lstrip("-").isdigit()]


class Lease:
    """The lease of one process: `acquire()` waits for it, `lost` is set if another instance
    took it. While its connection is broken, `on_interrupted` has been called; `on_regained`
    is called when it is taken again."""

    def __init__(self, database_url: str) -> None:
        self._dsn = plain_url(database_url)
        self._connection: Any = None  # asyncpg.Connection, typed Any: asyncpg has no stubs
        self._watch: asyncio.Task[None] | None = None
        self._regain: asyncio.Task[None] | None = None
        self._listeners: list[tuple[str, Callable[[str], None]]] = []
        self._released = False
        self.held = False
        self.lost = asyncio.Event()
        self.on_interrupted: Callable[[], None] = lambda: None
        self.on_regained: Callable[[], None] = lambda: None

    async def try_acquire(self) -> bool:
        """Take the lease if it is free; True if this process holds it now."""
        return self.held or bool(await self._try())

    async def _try(self) -> bool | None:
        """Take the lease if it is free: True if taken, False if another session holds it,
        None if PostgreSQL did not answer."""
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(
                    self._dsn, timeout=5, server_settings=KEEPALIVES
                )
            taken = await self._connection.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", *LEASE_KEY, timeout=5
            )
            if taken:
                for channel, on_message in self._listeners:  # again, on a new connection
                    await self._add_listener(channel, on_message)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("lease: PostgreSQL did not answer (%s)", type(exc).__name__)
            await self._drop_connection()
            return None
        if taken:
            self.held = True
            connection = self._connection
            connection.add_termination_listener(lambda _connection: self._interrupt("closed"))
            self._watch = asyncio.create_task(self._check(connection), name="agora-lease")
        return bool(taken)

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait until this process holds the lease; False if `stopping` is set first."""
        while not await self.try_acquire():
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=TRY_EVERY)
                return False
        return True

    async def listen(self, channel: str, on_message: Callable[[str], None]) -> None:
        """Call `on_message(payload)` for every notification on the channel (lease held)."""
        self._listeners.append((channel, on_message))
        await self._add_listener(channel, on_message)

    async def _add_listener(self, channel: str, on_message: Callable[[str], None]) -> None:
        await self._connection.add_listener(
            channel, lambda _connection, _pid, _channel, payload: on_message(payload)
        )

    async def _check(self, connection: Any) -> None:
        while self.held and self._connection is connection:
            await asyncio.sleep(CHECK_EVERY)
            try:
                await connection.fetchval("SELECT 1", timeout=CHECK_EVERY)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                self._interrupt(type(exc).__name__)

    def _interrupt(self, reason: str) -> None:
        """The lease's connection failed: stop sending now (PostgreSQL may give the lease to
        another instance), and try to take the lease again."""
        if not self.held or self._released:
            return
        log.error("lease lost (%s): this instance stops sending until it takes it again", reason)
        self.held = False
        self.on_interrupted()
        self._regain = asyncio.create_task(self._take_again(), name="agora-lease-regain")

    async def _take_again(self) -> None:
        await self._drop_connection()
        while True:
            await asyncio.sleep(TRY_EVERY)
            taken = await self._try()
            if taken is None:  # PostgreSQL still away: try again
                continue
            if taken:
                log.warning("lease taken again: this instance sends again")
                self.on_regained()
            else:
                log.error("the lease is held by another instance: this instance stops")
                self.lost.set()
            return

    async def release(self) -> None:
        """Give the lease up (closing its connection releases it)."""
        self._released = True
        self.held = False
        for task in (self._watch, self._regain):
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with suppress(Exception):  # already broken: nothing more to release
                await asyncio.wait_for(connection.close(), timeout=2)
            if not connection.is_closed():
                connection.terminate()
