"""The inbox: updates are stored as they arrive and acknowledged at once, then handled.

Long polling (bot.engine.polling) and webhooks (bot.engine.webhook) hand each batch or
request to `Inbox.receive`, which stores it in one short transaction (storage.inbox); once
that has committed, Telegram may forget the updates (the next getUpdates offset, the
webhook's 200). Handling follows from the stored rows (bot.engine.dispatcher): each chat
with updates waiting gets a lane that handles them in order, 16 chats at a time, so a chat
whose updates are slow delays only itself; the chatless updates (poll answers) are applied
in bulk by one lane of their own. Updates are kept parsed in memory from their arrival; a
sweep every second finds what memory does not know: updates left by a crash or a stop,
postponed ones now due, and those another instance stored. Nothing received is lost across a
crash: it is in the inbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot

from bot.engine.dispatcher import CHATLESS_BATCH, Dispatcher
from bot.engine.reading import Chatless, Step, lane_of, read_update
from storage.claims import due_chats
from storage.db import Database
from storage.inbox import (
    Received,
    bare_body,
    last_waiting,
    purge_set_aside,
    store,
    unsettled_up_to,
)

log = logging.getLogger(__name__)

LANES = 16  # chats handled at once
SWEEP_EVERY = 1.0  # seconds between looks at the inbox for what memory does not know
SWEEP_CHATS = 500  # chats woken by one sweep at most
KEEP_SET_ASIDE = timedelta(days=7)
PURGE_EVERY = 3_600.0
# Updates received but not handled yet that this process keeps in memory; beyond it, long
# polling waits before fetching more (Telegram keeps them meanwhile).
BACKLOG = 10_000
CLOSE_WITHIN = 20.0  # seconds the lanes get, at a stop, to handle what waits
CATCH_UP_WITHIN = 30.0  # seconds the missed digests wait, at a start, for what was left
MAX_UPDATE_ID = 2**63 - 1  # the column is a signed 64-bit integer
CHATLESS_KINDS = frozenset({"poll_answer", "poll"})  # updates that never have a chat
# While long polling brings full batches (a vote storm), the chatless lane gathers this
# long at most, or up to a batch of its own, before a unit: each unit costs some 30 round
# trips to SQLite's thread whatever its size, and holds the write lock the next batch's
# store waits for.
GATHER = 0.1


class Inbox:
    """Receives updates durably; handles them from the inbox until `close()`."""

    def __init__(self, bot: Bot, database: Database, dispatcher: Dispatcher) -> None:
        self._bot = bot
        self._database = database
        self._dispatcher = dispatcher
        self._parsed: dict[int, Any] = {}
        self._slots = asyncio.Semaphore(LANES)
        self._lanes: dict[int | None, asyncio.Task[None]] = {}  # None: the chatless lane
        self._wanted: set[int | None] = set()  # woken since their lane last looked
        # Chatless updates received here, oldest first: handled without looking them up,
        # unless older ones may wait in the inbox (at start, or found by the sweep).
        self._arrived: deque[int] = deque()
        self._look_up = True
        self._more_coming = False  # the last batch was full: Telegram has more
        self._gathered = asyncio.Event()
        # A chat's updates received here, oldest first: its lane goes on while one of them
        # waits, or until the inbox has none due if the sweep woke it (`_look_up_chats`).
        self._chat_arrived: dict[int, deque[int]] = {}
        self._look_up_chats: set[int] = set()
        self._room = asyncio.Event()
        self._room.set()
        self._stopping = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None

    async def receive(
        self, raw: list[dict[str, Any]], *, watermark: bool, more_coming: bool = False
    ) -> None:
        """Store the updates (an unreadable one set aside with its reason) in one transaction;
        once this returns, they may be acknowledged. With `watermark` (long polling), updates
        up to the batch's last are not stored again. `more_coming`: the batch was full, the
        next follows at once (the chatless lane may gather them)."""
        self._more_coming = more_coming
        received = []
        parsed = {}
        for item in raw:
            update_id = item.get("update_id")
            if not isinstance(update_id, int) or not 0 < update_id <= MAX_UPDATE_ID:
                log.warning("an update without a valid id was ignored")
                continue
            # Poll answers and states (a vote storm) are read when handled, in their lane:
            # storing them, which Telegram waits for, is all that must be done now.
            update: Any = item if CHATLESS_KINDS & item.keys() else read_update(item, self._bot)
            try:
                body = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
            except (ValueError, RecursionError):
                body, update = bare_body(update_id), None
            if update is None:  # kept for the record: its id, and its body if allowed
                if not self._dispatcher.keep_personal_data:
                    body = bare_body(update_id)
                received.append(Received(update_id, None, body, set_aside="unreadable"))
                continue
            lane = None if update is item else lane_of(update)
            received.append(Received(update_id, lane, body))
            parsed[update_id] = (lane, update)
        if not received:
            return
        async with self._database.transaction() as session:
            fresh = await store(session, received, datetime.now(UTC), watermark=watermark)
        for row in fresh:
            if row.update_id in parsed:
                lane, update = parsed[row.update_id]
                self._parsed[row.update_id] = update
                if lane is None:
                    self._arrived.append(row.update_id)
                else:
                    self._chat_arrived.setdefault(lane, deque()).append(row.update_id)
                self._wake(lane)
        if not self._more_coming or len(self._arrived) >= CHATLESS_BATCH:
            self._gathered.set()
        if len(self._parsed) >= BACKLOG:
            self._room.clear()

    async def room(self) -> None:
        """Until this process's backlog is below its bound."""
        await self._room.wait()

    def _wake(self, lane: int | None) -> None:
        if self._stopping.is_set():
            return
        self._wanted.add(lane)
        if lane not in self._lanes:
            # The dict keeps the task referenced until it ends (asyncio holds tasks weakly).
            self._lanes[lane] = asyncio.create_task(self._run(lane), name=f"agora-lane-{lane}")

    async def _run(self, lane: int | None) -> None:
        """A lane: its chat's updates in order (or the chatless ones in bulk), until none is
        due; on a database error it stops, and the sweep wakes it again."""
        try:
            async with self._slots:
                while True:  # at a stop too: what was acknowledged is handled if time allows
                    self._wanted.discard(lane)
                    if lane is None:
                        more = await self._chatless_step()
                    else:
                        more = await self._chat_step(lane)
                    self._freed()
                    if not more and lane not in self._wanted:
                        break
        except (SQLAlchemyError, OSError) as exc:
            log.warning("lane of %s stopped (%s); the sweep resumes it", lane, type(exc).__name__)
        except Exception:  # a defect: logged, and the sweep tries the lane again
            log.exception("lane of %s failed", lane)
        finally:
            del self._lanes[lane]  # at once, before anything may wake it again

    async def _chat_step(self, chat: int) -> bool:
        """One update of the chat; whether the lane goes on: while an update received here
        waits, or (woken by the sweep) until the inbox has none due. A look that finds
        nothing is a write transaction (the claim): it is not made after every update."""
        if await self._dispatcher.chat_step(chat, self._parsed) is not Step.HANDLED:
            self._look_up_chats.discard(chat)
            return False
        return chat in self._look_up_chats or self._waits_here(chat)

    def _waits_here(self, chat: int) -> bool:
        arrived = self._chat_arrived.get(chat)
        while arrived and arrived[0] not in self._parsed:  # handled, or set aside
            arrived.popleft()
        if not arrived:
            self._chat_arrived.pop(chat, None)
            return False
        return True

    async def _chatless_step(self) -> bool:
        if self._look_up:
            done = await self._dispatcher.chatless_step(self._parsed)
            # The oldest due were all received here: what memory holds is what waits.
            self._look_up = done is Chatless.MORE
            return done is not Chatless.NONE
        if self._more_coming and len(self._arrived) < CHATLESS_BATCH:
            self._gathered.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._gathered.wait(), GATHER)
        batch: list[int] = []
        while self._arrived and len(batch) < CHATLESS_BATCH:
            update_id = self._arrived.popleft()
            if update_id in self._parsed:  # else handled already, or set aside
                batch.append(update_id)
        if not batch:
            return False
        await self._dispatcher.chatless_step(self._parsed, batch)
        return True

    def _freed(self) -> None:
        if len(self._parsed) < BACKLOG:
            self._room.set()

    def start(self) -> None:
        """Start the sweep (its first look at once: what a previous run left)."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="agora-inbox-sweep")

    async def _sweep_forever(self) -> None:
        purged_at = -PURGE_EVERY
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                await self.sweep()
                if loop.time() - purged_at >= PURGE_EVERY:
                    purged_at = loop.time()
                    async with self._database.transaction() as session:
                        gone = await purge_set_aside(session, datetime.now(UTC) - KEEP_SET_ASIDE)
                    if gone:
                        log.info("inbox: %d updates set aside a week ago purged", gone)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("inbox sweep failed (%s); again shortly", type(exc).__name__)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=SWEEP_EVERY)

    async def sweep(self) -> None:
        """Wake the lanes of the chats (and the chatless updates) the inbox has due."""
        async with self._database.read() as session:
            chats, chatless = await due_chats(session, datetime.now(UTC), SWEEP_CHATS)
        for chat in chats:
            if chat not in self._lanes:
                self._look_up_chats.add(chat)
                self._wake(chat)
        if chatless:
            self._look_up = True  # some may be postponed ones now due, or another's
            if None not in self._lanes:
                self._wake(None)

    async def settled(self, update_id: int) -> None:
        """Until every update up to `update_id` is handled (or postponed, or set aside)."""
        while True:
            async with self._database.read() as session:
                if not await unsettled_up_to(session, update_id):
                    return
            await asyncio.sleep(0.01)

    async def caught_up(self, within: float = CATCH_UP_WITHIN) -> bool:
        """Until the updates waiting now are handled (or postponed, or set aside): what a
        previous run left; False if `within` seconds passed first."""
        async with self._database.read() as session:
            last = await last_waiting(session)
        if last is not None:
            try:
                await asyncio.wait_for(self.settled(last), timeout=within)
            except TimeoutError:
                log.warning("inbox: updates left by the last run still wait after %d s", within)
                return False
        return True

    async def close(self) -> None:
        """Stop looking for more; let the lanes handle what they have (CLOSE_WITHIN seconds
        at most: what still waits is handled at the next start)."""
        self._stopping.set()
        if self._sweeper is not None:
            await self._sweeper
        lanes = list(self._lanes.values())
        _, late = await asyncio.wait(lanes, timeout=CLOSE_WITHIN) if lanes else (set(), set())
        for lane in late:  # its transaction rolls back: the update waits for the next start
            lane.cancel()
        if late:
            await asyncio.wait(late)
