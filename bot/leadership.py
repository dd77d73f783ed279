"""What only one instance does: send the outbox, run the daily digests, queue announcements,
record the results' history for the report.

Every instance takes updates; the one holding the lease (bot.engine.lease, on PostgreSQL) also
runs the sender, the digest schedule and the announcements, so Telegram's flood limits are
kept for the bot as a whole. The others queue their messages as usual and tell it through
the database. With SQLite there is one instance per database file: it always leads.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram.ext import JobQueue

from bot.articles.announcements import Announcer
from bot.core.background import Background
from bot.core.library import Library
from bot.core.localtime import Clock
from bot.digests.schedule import DigestScheduler
from bot.engine.lease import (
    EVERYTHING,
    OUTBOX_CHANNEL,
    SCHEDULE_CHANNEL,
    Lease,
    publish_queued,
    publish_schedule,
    queued_ids,
)
from bot.engine.services import Services
from bot.report.history import RECORD_EVERY, next_record, record_history
from storage.chats import get_chat
from storage.updates import forget_handled

log = logging.getLogger(__name__)

FORGET_EVERY = 3600.0  # seconds between two cleanings of the handled updates
KEEP_HANDLED = timedelta(hours=48)  # Telegram redelivers an update for 24 hours at most


class Leadership:
    """Runs the sending side while this process holds the lease (from `begin` to `end`)."""

    def __init__(
        self,
        services: Services,
        scheduler: DigestScheduler,
        announcer: Announcer,
        jobs: JobQueue[Any],
        lease: Lease | None,
        clock: Clock,
    ) -> None:
        self._services = services
        self._clock = clock
        self._scheduler = scheduler
        self._announcer = announcer
        self._jobs = jobs
        self._lease = lease
        self._stopping = asyncio.Event()
        self._waiting: asyncio.Task[None] | None = None
        self._tasks = Background()
        self.leading = False
        #: Set when the lease was lost: this process must stop (another one leads now).
        self.lost = lease.lost if lease is not None else asyncio.Event()

    async def begin(self) -> None:
        """Lead now if the lease is free (always with SQLite); otherwise follow, and keep
        trying to take the lease in the background."""
        if self._lease is None:
            await self._lead()
            return
        self._services.work.publish = publish_queued
        self._lease.on_interrupted = self._services.sender.pause
        self._lease.on_regained = self._resume
        self._scheduler.leading = False
        self._scheduler.pass_on = lambda chat_id: self._tasks.spawn(self._pass_on(chat_id))
        if await self._lease.try_acquire():
            await self._lead()
        else:
            log.info("another instance sends: this one takes updates and waits for the lease")
            self._waiting = asyncio.create_task(self._wait(), name="agora-lease-wait")

    async def _wait(self) -> None:
        assert self._lease is not None
        if await self._lease.acquire(self._stopping):
            log.info("lease taken: this instance sends from now on")
            await self._lead()

    async def _lead(self) -> None:
        if self._lease is not None:
            # Listen before reading what is pending: nothing queued meanwhile is missed.
            await self._lease.listen(OUTBOX_CHANNEL, self._on_queued)
            await self._lease.listen(SCHEDULE_CHANNEL, self._on_schedule)
        self._services.work.publish = None
        self._scheduler.leading = True
        self.leading = True
        await self._services.sender.start()
        await self._scheduler.start()
        self._jobs.run_repeating(
            self._forget_handled, interval=FORGET_EVERY, first=FORGET_EVERY, name="agora-forget"
        )
        self._jobs.run_repeating(
            self._record_history,
            interval=RECORD_EVERY,
            first=next_record(self._clock()),
            name="agora-history",
        )
        self._announcer.start(self._jobs)
        await self._announcer.on_library(self._services.library)  # new since the last run

    def _resume(self) -> None:
        """The lease is held again (PostgreSQL came back): send again, and take in what the
        other instances queued while this one was not listening."""
        self._services.sender.resume()
        self._on_queued(EVERYTHING)

    async def _forget_handled(self, context: object) -> None:
        await self.forget_handled()

    async def _record_history(self, context: object) -> None:
        await self.record_history()

    async def record_history(self) -> int:
        """Snapshot the results that changed, for the report's days and trends."""
        return await record_history(self._services.database, self._clock())

    async def forget_handled(self) -> None:
        """Forget handled updates older than Telegram's redelivery window (webhook mode keeps
        them otherwise: it has no batch mark)."""
        try:
            async with self._services.database.transaction() as session:
                forgotten = await forget_handled(session, datetime.now(UTC) - KEEP_HANDLED)
        except SQLAlchemyError as exc:
            log.warning("handled updates not forgotten (%s); next hour", type(exc).__name__)
            return
        if forgotten:
            log.info("%d handled updates forgotten", forgotten)

    async def on_library(self, library: Library) -> None:
        """The articles were reloaded: plan their announcements, if this process leads."""
        if self.leading:
            await self._announcer.on_library(library)

    async def end(self) -> None:
        """Stop leading (the calls in flight finish) and give the lease up."""
        self._stopping.set()
        if self._waiting is not None:
            self._waiting.cancel()
            with suppress(asyncio.CancelledError):
                await self._waiting
        if self.leading:
            self._scheduler.stop()
            await self._services.sender.stop()
        await self._tasks.wait()
        if self._lease is not None:
            await self._lease.release()

    # -- news from the other instances ------------------------------------------------------

    def _on_queued(self, payload: str) -> None:
        self._tasks.spawn(self._take_in(queued_ids(payload)))

    async def _take_in(self, ids: list[int] | None) -> None:
        try:
            await self._services.sender.take_in(ids)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("outbox: rows queued elsewhere not read (%s); again", type(exc).__name__)
            await asyncio.sleep(1)
            self._on_queued(EVERYTHING)

    def _on_schedule(self, payload: str) -> None:
        with suppress(ValueError):
            self._tasks.spawn(self._rearm(int(payload)))

    async def _rearm(self, chat_id: int) -> None:
        async with self._services.database.read() as session:
            chat = await get_chat(session, chat_id)
        if chat is None:
            self._scheduler.disarm(chat_id)
        else:
            self._scheduler.arm(chat)

    async def _pass_on(self, chat_id: int) -> None:
        """Tell the leading instance that a chat's digest settings changed here."""
        try:
            async with self._services.database.transaction() as session:
                await publish_schedule(session, chat_id)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("digest change of chat %d not passed on (%s)", chat_id, type(exc).__name__)
