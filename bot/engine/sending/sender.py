"""The sender: makes the outbox's Telegram calls, chats in parallel, each chat in order,
answers to people first, within Telegram's flood limits in every window.

Every chat has two lanes: its messages, sent one at a time in the order they were queued,
and its reactions and callback answers, which are not group messages and need no order. The
next call made is the head of a lane, the most urgent first (priority, then age), among the
lanes that are idle, due, and whose group still has room in its minute; at most `concurrency`
calls are in flight, and at most `overall` messages leave in any second, the most urgent of
those ready first (`Pacer`).

A call is made outside any transaction: the row is claimed (FOR UPDATE SKIP LOCKED on
PostgreSQL), the call made, then the row marked sent in a short transaction together with
what the call taught (a poll's ids, a summary's message id, a digest's completion). A crash
in between sends that one message again after the restart; never zero times. A mark the
database refuses is tried again, the call's answer kept meanwhile (bot.engine.sending.delivery).

Self-healing: every SWEEP_EVERY seconds the sender takes in the pending rows no one holds
(a claim expired: a lost task's, a dead instance's; a row it lost track of). At start it
counts what was sent in the last minute, so that the flood limits hold across a restart.
While the lease is interrupted (PostgreSQL restarting) it is paused: it starts no call, and
keeps what it was doing until the lease is taken again.

Failures: 429 waits `retry_after` and retries; 403 drops the chat's queue and marks it
inactive; a group that became a supergroup is followed and its queue re-addressed; another
400 drops the call (logged), never retried; network errors retry with a growing delay.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot

from bot.core.background import Background
from bot.engine.sending.calls import Caller
from bot.engine.sending.delivery import Delivery
from bot.engine.sending.flood import FloodLimits, Occupancy, Pacer, places_taken
from bot.engine.sending.lanes import INSTANT_METHODS, Entry, Lanes
from storage.db import Database
from storage.models import Chat, OutboxMessage
from storage.outbox import KEEP_DONE, pending_messages, purge, release_claims, sent_since

log = logging.getLogger(__name__)

PURGE_EVERY = 3600.0
SWEEP_EVERY = 30.0


class Sender:
    """Delivers the outbox until stopped."""

    def __init__(
        self,
        bot: Bot,
        database: Database,
        *,
        limits: FloodLimits | None,
        draw: Callable[[dict[str, Any]], list[bytes]],
        drawing_threads: int = 2,
    ) -> None:
        self._database = database
        self._limits = limits
        self._concurrency = limits.concurrency if limits else 32
        self._overall = Occupancy(limits.overall, 1.0) if limits else None
        pacer = Pacer(self._overall) if self._overall is not None else None
        self._groups: dict[int, Occupancy] = {}
        self._state = Lanes()
        self._caller = Caller(bot, pacer, draw, drawing_threads)
        self._deliver = Delivery(
            database,
            self._caller,
            self._state,
            queued=self.notify,
            blocked=lambda chat_id: self.on_blocked(chat_id),
            migrated=lambda old_id, chat: self.on_migrated(old_id, chat),
        )
        self._in_flight = Background()
        self._sending = 0  # calls in flight (a task leaves `_in_flight` a little later)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._paused = False
        self._task: asyncio.Task[None] | None = None
        #: Told when a chat blocked the bot (its digests stop) or moved to a new id.
        self.on_blocked: Callable[[int], None] = lambda chat_id: None
        self.on_migrated: Callable[[int, Chat | None], None] = lambda old, chat: None

    # -- life cycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Take over the outbox (this process is its only sender) and start delivering."""
        async with self._database.transaction() as session:
            released = await release_claims(session)
            purged = await purge(session, datetime.now(UTC) - KEEP_DONE)
        await self._recall_flood()
        pending = await self.take_in()
        if pending or released or purged:
            log.info(
                "outbox: %d calls to make (%d interrupted), %d old rows purged",
                pending,
                released,
                purged,
            )
        self._task = asyncio.create_task(self._run(), name="agora-sender")

    async def _recall_flood(self) -> None:
        """Count the messages sent in the last window of each limit (by the instance that sent
        before this one, or before a restart) as if this sender had sent them."""
        limits = self._limits
        if limits is None:
            return
        now, clock = datetime.now(UTC), time.monotonic()
        since = now - timedelta(seconds=max(limits.group_period, 1.0))
        async with self._database.read() as session:
            sent = await sent_since(session, since, besides=INSTANT_METHODS)
        overall, groups = places_taken(sent, limits, now, clock)
        if self._overall is not None:
            self._overall.hold(overall, clock)
        for chat_id, until in groups.items():
            group = self._group(chat_id)
            assert group is not None
            group.hold(until, clock)

    async def take_in(
        self, among: list[int] | None = None, *, free_at: datetime | None = None
    ) -> int:
        """Read the pending rows (or those `among` these ids; or those no one holds `free_at`
        that time) and send them; how many were new to this sender."""
        async with self._database.read() as session:
            pending = await pending_messages(session, among, free_at=free_at)
        known = self._state.ids()
        new = [found for found in pending if found[0] not in known]
        for id_, chat_id, priority, method, queued in new:
            at = queued.replace(tzinfo=queued.tzinfo or UTC).timestamp()  # SQLite: naive UTC
            self._state.add(Entry(id_, chat_id, priority, method, at))
        if new:
            self._idle.clear()
            self._wake.set()
        return len(new)

    async def stop(self) -> None:
        """Finish the calls in flight; what is still queued goes out after the restart."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self._in_flight.wait()
        await self._deliver.mark_kept([e for lane in self._state.lanes.values() for e in lane])
        self._caller.close()

    def pause(self) -> None:
        """Start no call until `resume()` (the lease is interrupted): the calls in flight
        finish, and the answers of those the database could not mark are kept."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    def notify(self, rows: Iterable[OutboxMessage]) -> None:
        """Rows committed by a unit of work: send them."""
        for row in rows:
            entry = Entry(row.id, row.chat_id, row.priority, row.method, row.created_at.timestamp())
            self._state.add(entry)
        self._idle.clear()
        self._wake.set()

    def _is_idle(self) -> bool:
        return not self._state.lanes and self._sending == 0

    async def wait_idle(self) -> None:
        """Until nothing is queued or in flight."""
        if self._is_idle():
            return
        self._idle.clear()
        await self._idle.wait()

    def queued(self) -> int:
        return len(self._state)

    def backlog(self) -> tuple[int, float | None]:
        """Calls waiting, and when the oldest of them was queued (epoch seconds)."""
        entries = [entry for lane in self._state.lanes.values() for entry in lane]
        return len(entries), min((entry.queued for entry in entries), default=None)

    # -- scheduling -------------------------------------------------------------------------

    async def _run(self) -> None:
        last_purge = last_sweep = time.monotonic()
        while not self._stopping:
            self._wake.clear()
            delay = None if self._paused else self._dispatch()
            if self._is_idle():
                self._idle.set()
            now = time.monotonic()
            if now - last_purge > PURGE_EVERY:
                last_purge = now
                self._in_flight.spawn(self._purge())
            if now - last_sweep >= SWEEP_EVERY:
                last_sweep = now
                self._in_flight.spawn(self._sweep())
            until_sweep = last_sweep + SWEEP_EVERY - now
            wait = until_sweep if delay is None else min(delay, until_sweep)
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                pass

    def _dispatch(self) -> float | None:
        """Start every call that may go now; return how long until another may."""
        state, now = self._state, time.monotonic()
        while state.sleeping and state.sleeping[0][0] <= now:
            _, key = heapq.heappop(state.sleeping)
            state.offer(key)
        while state.ready and self._sending < self._concurrency:
            _, head_id, key = state.ready[0]
            lane = state.lanes.get(key)
            if not lane or key in state.busy or lane[0].id != head_id:
                heapq.heappop(state.ready)  # stale: the lane moved on since it was offered
                continue
            head = lane[0]
            wait = head.due - now
            if wait <= 0 and head.method not in INSTANT_METHODS and head.sent is None:
                group = self._group(head.chat_id)
                if group is not None:
                    free = group.wait(now)
                    wait = 1.0 if free is None else free
                    if wait <= 0:
                        group.take()
            else:
                group = None
            heapq.heappop(state.ready)
            if wait > 0:
                state.sleep(key, now + wait)
                continue
            state.busy.add(key)
            self._sending += 1
            self._in_flight.spawn(self._send(head, group))
        if self._sending >= self._concurrency:
            return None
        return max(0.0, state.sleeping[0][0] - now) if state.sleeping else None

    def _group(self, chat_id: int) -> Occupancy | None:
        if self._limits is None or chat_id >= 0:  # private chats have no per-minute limit
            return None
        group = self._groups.get(chat_id)
        if group is None:
            limits = self._limits
            group = self._groups[chat_id] = Occupancy(limits.group, limits.group_period)
        return group

    async def _send(self, entry: Entry, group: Occupancy | None) -> None:
        key = entry.lane  # the entry changes lanes if its chat moves to a new id
        messages = 1
        try:
            messages = await self._deliver(entry)
        except Exception:  # the sender must outlive any one call: try again, then give up
            await self._deliver.failed(entry)
        finally:
            if group is not None:  # it took one place; an album holds one per photo
                places = min(max(messages, 1), group.capacity)
                group.take(places - 1)
                group.done(time.monotonic(), places)
            self._sending -= 1
            self._state.busy.discard(key)
            if entry.due > time.monotonic():
                self._state.sleep(entry.lane, entry.due)
            self._state.offer(key)
            self._state.offer(entry.lane)
            self._wake.set()

    async def _sweep(self) -> None:
        """Take in the pending rows no one holds that this sender does not know of: a claim
        expired (a lost task's, a dead instance's) or a row it lost track of."""
        try:
            found = await self.take_in(free_at=datetime.now(UTC))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("outbox: sweep failed (%s); again in %.0f s", type(exc).__name__,
                        SWEEP_EVERY)
            return
        if found:
            log.info("outbox: %d pending calls taken back", found)

    async def _purge(self) -> None:
        async with self._database.transaction() as session:
            purged = await purge(session, datetime.now(UTC) - KEEP_DONE)
        now = time.monotonic()
        for chat_id in [c for c, window in self._groups.items() if window.unused(now)]:
            del self._groups[chat_id]
        if purged:
            log.info("outbox: %d old rows purged", purged)
