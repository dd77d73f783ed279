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
in between sends that one message again after the restart; never zero times.

Failures: 429 waits `retry_after` and retries; 403 drops the chat's queue and marks it
inactive; a group that became a supergroup is followed and its queue re-addressed; another
400 drops the call (logged), never retried; network errors retry with a growing delay.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InputFile, InputMediaPhoto, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot import metrics
from bot.coalescer import Coalescer
from bot.effects import after_drop, mark_sent
from bot.flood import FloodLimits, Occupancy, Pacer
from bot.sender_lanes import INSTANT_METHODS, Entry, Lanes
from storage.chats import deactivate_chat, migrate_chat
from storage.db import Database
from storage.models import Chat, OutboxMessage
from storage.outbox import (
    DROPPED,
    KEEP_DONE,
    PENDING,
    claim,
    drop_chat,
    finish,
    new_message,
    pending_messages,
    purge,
    readdress,
    release,
    release_claims,
)

log = logging.getLogger(__name__)

HTML_METHODS = frozenset({"sendMessage", "editMessageText"})
#: Calls answered with the message they sent or edited.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPoll", "sendPhoto", "sendMediaGroup", "sendDocument", "editMessageText"}
)
#: What a row's priority says it is, for the metrics (see bot.outbox.Priority).
KINDS = {0: "answer", 1: "poll", 2: "digest", 3: "announcement"}
PURGE_EVERY = 3600.0
MAX_BACKOFF = 60.0
GIVE_UP = 3  # unexpected failures of one row before it is dropped

T = TypeVar("T")
R = TypeVar("R")


def quiet_raw_calls() -> None:
    """Agora calls the Bot API by method name (the outbox stores names and parameters);
    python-telegram-bot warns about that use of `do_api_request`."""
    warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)


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
        quiet_raw_calls()
        self._bot = bot
        # Texts are HTML (Defaults(parse_mode=HTML), set by bot.app): a raw API request does
        # not get the bot's defaults, so the sender applies the parse mode itself.
        defaults = bot.defaults if isinstance(bot, ExtBot) else None
        self._parse_mode = defaults.parse_mode if defaults is not None else None
        self._database = database
        self._limits = limits
        self._draw = draw
        # Charts are drawn in a few threads of their own: it bounds memory (a canvas is ~10 MB).
        self._drawing = ThreadPoolExecutor(drawing_threads, thread_name_prefix="agora-chart")
        self._concurrency = limits.concurrency if limits else 32
        self._pacer = Pacer(Occupancy(limits.overall, 1.0)) if limits else None
        self._groups: dict[int, Occupancy] = {}
        self._state = Lanes()
        # Claims and marks of many calls share transactions (see Coalescer).
        self._claims = Coalescer(database, self._claim_rows)
        self._marks = Coalescer(database, mark_sent)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._sending = 0  # calls in flight (a task leaves `_in_flight` a little later)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
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
        pending = await self.take_in()
        if pending or released or purged:
            log.info(
                "outbox: %d calls to make (%d interrupted), %d old rows purged",
                pending,
                released,
                purged,
            )
        self._task = asyncio.create_task(self._run(), name="agora-sender")

    async def take_in(self, among: list[int] | None = None) -> int:
        """Read the pending rows (or those `among` these ids) queued by another process, and
        send them; how many were read. Rows already known are not added twice."""
        async with self._database.read() as session:
            pending = await pending_messages(session, among)
        for id_, chat_id, priority, method, queued in pending:
            at = queued.replace(tzinfo=queued.tzinfo or UTC).timestamp()  # SQLite: naive UTC
            self._state.add(Entry(id_, chat_id, priority, method, at))
        if pending:
            self._idle.clear()
            self._wake.set()
        return len(pending)

    async def stop(self) -> None:
        """Finish the calls in flight; what is still queued goes out after the restart."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._drawing.shutdown(wait=False)

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
        last_purge = time.monotonic()
        while not self._stopping:
            self._wake.clear()
            delay = self._dispatch()
            if self._is_idle():
                self._idle.set()
            if time.monotonic() - last_purge > PURGE_EVERY:
                last_purge = time.monotonic()
                self._spawn(self._purge())
            try:
                async with asyncio.timeout(delay):
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
            if wait <= 0 and head.method not in INSTANT_METHODS:
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
            self._spawn(self._send(head, group))
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

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _send(self, entry: Entry, group: Occupancy | None) -> None:
        key = entry.lane  # the entry changes lanes if its chat moves to a new id
        try:
            await self._deliver(entry)
        except Exception:  # the sender must outlive any one call: try again, then give up
            log.exception(
                "outbox row %d failed unexpectedly", entry.id, extra={"chat_id": entry.chat_id}
            )
            entry.failures += 1
            if entry.failures < GIVE_UP:
                entry.due = time.monotonic() + MAX_BACKOFF
            else:
                await self._give_up(entry)
        finally:
            if group is not None:
                group.done(time.monotonic())
            self._sending -= 1
            self._state.busy.discard(key)
            if entry.due > time.monotonic():
                self._state.sleep(entry.lane, entry.due)
            self._state.offer(key)
            self._state.offer(entry.lane)
            self._wake.set()

    # -- one call ---------------------------------------------------------------------------

    async def _deliver(self, entry: Entry) -> None:
        row = await self._claims(entry.id)
        if row is None:  # sent, dropped, or taken by another sender meanwhile
            self._state.remove(entry)
            return
        try:
            result = await self._call(row)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.info(
                "flood limit in chat %s: waiting %.0f s",
                row.chat_id,
                seconds,
                extra={"chat_id": row.chat_id},
            )
            metrics.FLOOD_WAITS.inc()
            await self._retry(entry, seconds)
        except Forbidden:
            log.info(
                "chat %s blocked or removed the bot: its queue is dropped",
                row.chat_id,
                extra={"chat_id": row.chat_id},
            )
            await self._blocked(row.chat_id)
        except ChatMigrated as exc:
            await self._migrated(entry, int(exc.new_chat_id))
        except BadRequest as exc:
            log.warning(
                "%s to chat %s refused (%s): dropped",
                row.method,
                row.chat_id,
                exc,
                extra={"chat_id": row.chat_id},
            )
            await self._dropped(entry, row)
        except TelegramError as exc:
            backoff = min(MAX_BACKOFF, 0.5 * 2 ** min(row.attempts, 8))
            log.warning(
                "%s to chat %s failed (%s: %s); retrying in %.0f s",
                row.method,
                row.chat_id,
                type(exc).__name__,
                exc,
                backoff,
                extra={"chat_id": row.chat_id},
            )
            await self._retry(entry, backoff)
        else:
            await self._marks((row, result))
            metrics.SENT.labels(row.method, KINDS.get(row.priority, "other")).inc()
            self._state.remove(entry)

    async def _call(self, row: OutboxMessage) -> Any:
        params = dict(row.payload)
        if row.method != "answerCallbackQuery":
            params["chat_id"] = row.chat_id
        if row.method in HTML_METHODS and self._parse_mode is not None:
            params.setdefault("parse_mode", self._parse_mode)
        method, places = row.method, 1
        if method == "sendPhoto" and "chart" in params:
            loop = asyncio.get_running_loop()
            pages = await loop.run_in_executor(self._drawing, self._draw, params.pop("chart"))
            if len(pages) == 1:
                params["photo"] = InputFile(pages[0], filename="agora.png")
            else:  # one album, the caption under its first photo
                method, caption = "sendMediaGroup", params.pop("caption", None)
                places = len(pages)  # Telegram counts each photo of an album as a message
                params["media"] = [
                    InputMediaPhoto(
                        InputFile(png, filename=f"agora-{number}.png", attach=True),
                        caption=caption if number == 1 else None,
                    )
                    for number, png in enumerate(pages, 1)
                ]
        if row.method == "sendDocument" and row.attachment is not None:
            params["document"] = InputFile(row.attachment, filename=params.pop("filename"))
        async with AsyncExitStack() as stack:
            if self._pacer is not None and row.method not in INSTANT_METHODS:
                await stack.enter_async_context(self._pacer.place(row.priority, row.id, places))
            # An album's answer is its messages (a tuple); a digest is complete all the same.
            return await self._bot.do_api_request(
                method,
                api_kwargs=params,
                return_type=Message if method in MESSAGE_METHODS else None,
            )

    async def _retry(self, entry: Entry, seconds: float) -> None:
        async with self._database.transaction() as session:
            await release(session, entry.id)
        entry.due = time.monotonic() + seconds

    @staticmethod
    async def _claim_rows(session: AsyncSession, ids: list[int]) -> list[OutboxMessage | None]:
        rows = await claim(session, ids, datetime.now(UTC))
        for row in rows.values():
            session.expunge(row)
        return [rows.get(id_) for id_ in ids]

    async def _dropped(self, entry: Entry, row: OutboxMessage) -> None:
        fallback: OutboxMessage | None = None
        async with self._database.transaction() as session:
            await finish(session, [row.id], DROPPED, datetime.now(UTC))
            await after_drop(session, row)
            effect = row.effect or {}
            if "fallback" in effect:
                fallback = new_message(
                    row.chat_id,
                    "sendMessage",
                    effect["fallback"],
                    priority=row.priority,
                    now=datetime.now(UTC),
                )
                session.add(fallback)
        self._state.remove(entry)
        if fallback is not None:
            self.notify([fallback])

    async def _give_up(self, entry: Entry) -> None:
        """Drop a row whose sending keeps failing in Agora itself (a chart that cannot be
        drawn, say): its digest ends failed rather than "sending" forever."""
        try:
            async with self._database.transaction() as session:
                row = await session.get(OutboxMessage, entry.id)
                if row is not None and row.status == PENDING:
                    await finish(session, [row.id], DROPPED, datetime.now(UTC))
                    await after_drop(session, row)
        except SQLAlchemyError:
            log.exception("could not drop outbox row %d", entry.id)
            entry.due = time.monotonic() + MAX_BACKOFF
            return
        self._state.remove(entry)

    async def _blocked(self, chat_id: int) -> None:
        async with self._database.transaction() as session:
            for row in await drop_chat(session, chat_id, datetime.now(UTC)):
                await after_drop(session, row)
            await deactivate_chat(session, chat_id)
        for instant in (False, True):
            for entry in list(self._state.lanes.get((chat_id, instant), [])):
                self._state.remove(entry)
        self.on_blocked(chat_id)

    async def _migrated(self, entry: Entry, new_id: int) -> None:
        """The group became a supergroup: move it, and send its queue to the new id."""
        old_id = entry.chat_id
        async with self._database.transaction() as session:
            chat = await migrate_chat(session, old_id, new_id)
            await readdress(session, old_id, new_id)
            await release(session, entry.id)
        log.info("chat %s became supergroup %s: its queue follows", old_id, new_id)
        for instant in (False, True):
            for queued in list(self._state.lanes.get((old_id, instant), [])):
                self._state.remove(queued)
                queued.chat_id = new_id
                self._state.add(queued)
        self.on_migrated(old_id, chat)

    async def _purge(self) -> None:
        async with self._database.transaction() as session:
            purged = await purge(session, datetime.now(UTC) - KEEP_DONE)
        now = time.monotonic()
        for chat_id in [c for c, window in self._groups.items() if window.unused(now)]:
            del self._groups[chat_id]
        if purged:
            log.info("outbox: %d old rows purged", purged)
