"""One outbox row's journey: claimed, called, then marked sent with what the call taught, or
handled by what Telegram answered (wait and retry, drop the chat's queue, follow the group to
its supergroup, drop the call); a row that keeps failing in Agora itself is given up.

While the database fails, a claim or a mark is tried again after a short, growing delay; a
call that went out is kept in memory with Telegram's answer until its mark succeeds, so that
it is recorded (a poll's ids) and never made twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.engine import metrics, outbox
from bot.engine.effects import FallbackText, from_json
from bot.engine.outbox import Method, Priority
from bot.engine.sending.calls import Caller
from bot.engine.sending.coalescer import Coalescer
from bot.engine.sending.lanes import Entry, Lanes
from bot.engine.sending.outcomes import drop, mark_sent
from storage.chats import deactivate_chat, migrate_chat
from storage.db import Database
from storage.models import Chat, OutboxMessage
from storage.outbox import PENDING, claim, pending_rows, readdress, release

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
GIVE_UP = 3  # unexpected failures of one row before it is dropped
GONE = "chat not found"  # what Telegram says of a chat deleted, or never known
#: The database failing (a restart, a lost connection): tried again after 0.25 s, 0.5 s, 1 s…
#: up to MAX_STALL, without end (the call is out, or may go once the database is back).
FIRST_STALL, MAX_STALL = 0.25, 10.0
DATABASE_ERRORS = (SQLAlchemyError, OSError)


class Delivery:
    """Delivers one entry at a time (many run at once), keeping the sender's lanes right."""

    def __init__(
        self,
        database: Database,
        caller: Caller,
        lanes: Lanes,
        *,
        queued: Callable[[list[OutboxMessage]], None],
        blocked: Callable[[int], None],
        migrated: Callable[[int, Chat | None], None],
    ) -> None:
        self._database = database
        self._call = caller
        self._lanes = lanes
        self._queued = queued  # a row written here (a fallback text) is to be sent
        self._blocked_hook = blocked
        self._migrated_hook = migrated
        # Claims and marks of many calls share transactions (see Coalescer).
        self._claims = Coalescer(database, self._claim_rows)
        self._marks = Coalescer(database, mark_sent)

    async def __call__(self, entry: Entry) -> int:
        """Deliver the entry; how many messages left (an album: one per photo; 0: none)."""
        if entry.sent is not None:  # out already: only its mark is missing
            await self._mark(entry, entry.sent)
            return 0
        try:
            row = await self._claims(entry.id)
        except DATABASE_ERRORS as exc:
            self._stall(entry, "claim", exc)
            return 0
        if row is None:  # sent, dropped, or taken by another sender meanwhile
            self._lanes.remove(entry)
            return 0
        entry.held, entry.stalls = True, 0
        chat = {"chat_id": row.chat_id}
        try:
            result = await self._call(row)
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.info("flood limit in chat %s: waiting %.0f s", row.chat_id, seconds, extra=chat)
            metrics.FLOOD_WAITS.inc()
            await self._retry(entry, seconds)
        except Forbidden:
            log.info("chat %s blocked or removed the bot: its queue is dropped", row.chat_id,
                     extra=chat)
            await self._blocked(row.chat_id)
        except ChatMigrated as exc:
            await self._migrated(entry, int(exc.new_chat_id))
        except BadRequest as exc:
            if GONE in str(exc).lower():  # deleted (a group, a channel): as good as blocked
                log.info("chat %s is gone: its queue is dropped", row.chat_id, extra=chat)
                await self._blocked(row.chat_id)
                return 0
            log.warning("%s to chat %s refused (%s): dropped", row.method, row.chat_id, exc,
                        extra=chat)
            await self._dropped(entry, row)
        except TelegramError as exc:
            backoff = min(MAX_BACKOFF, 0.5 * 2 ** min(row.attempts, 8))
            log.warning(
                "%s to chat %s failed (%s: %s); retrying in %.0f s",
                row.method, row.chat_id, type(exc).__name__, exc, backoff, extra=chat,
            )
            await self._retry(entry, backoff)
        else:
            await self._mark(entry, (row, result))
            return len(result) if isinstance(result, tuple | list) else 1
        return 0

    async def _mark(self, entry: Entry, sent: tuple[OutboxMessage, Any]) -> None:
        """Record that the call went out, and what it taught; while the database fails, the
        answer is kept here and the mark tried again (the call is never made twice)."""
        try:
            await self._marks(sent)
        except DATABASE_ERRORS as exc:
            entry.sent = sent
            self._stall(entry, "mark", exc)
            return
        row = sent[0]
        entry.sent, entry.held = None, False
        metrics.SENT.labels(row.method, Priority.label(row.priority)).inc()
        self._lanes.remove(entry)

    def _stall(self, entry: Entry, step: str, exc: BaseException) -> None:
        """The database failed: try the entry again after a short, growing delay."""
        delay = min(MAX_STALL, FIRST_STALL * 2**entry.stalls)
        entry.stalls += 1
        entry.due = time.monotonic() + delay
        log.warning(
            "outbox row %d: the database failed during its %s (%s); again in %.1f s",
            entry.id, step, type(exc).__name__, delay, extra={"chat_id": entry.chat_id},
        )

    async def mark_kept(self, entries: list[Entry]) -> None:
        """At stop: a last try to mark the calls that went out but could not be marked (what
        stays unmarked goes out again after the restart)."""
        kept = [entry.sent for entry in entries if entry.sent is not None]
        if not kept:
            return
        try:
            async with self._database.transaction() as session:
                await mark_sent(session, kept)
        except DATABASE_ERRORS:
            log.exception("%d calls that went out could not be marked sent", len(kept))

    async def failed(self, entry: Entry) -> None:
        """The delivery raised (a defect in Agora, not an answer of Telegram's): try again a
        minute later (the row's claim given back, for the next try to take it again), and drop
        the row at the GIVE_UP-th failure."""
        log.exception("outbox row %d failed unexpectedly", entry.id,
                      extra={"chat_id": entry.chat_id})
        entry.failures += 1
        if entry.held and entry.sent is None:
            try:
                async with self._database.transaction() as session:
                    await release(session, entry.id)
                entry.held = False
            except DATABASE_ERRORS:  # the sweep takes it back once the claim has expired
                log.exception("could not give outbox row %d back", entry.id)
        if entry.failures < GIVE_UP:
            entry.due = time.monotonic() + MAX_BACKOFF
        else:
            await self._give_up(entry)

    @staticmethod
    async def _claim_rows(session: AsyncSession, ids: list[int]) -> list[OutboxMessage | None]:
        rows = await claim(session, ids, datetime.now(UTC))
        for row in rows.values():
            session.expunge(row)
        return [rows.get(id_) for id_ in ids]

    async def _retry(self, entry: Entry, seconds: float) -> None:
        async with self._database.transaction() as session:
            await release(session, entry.id)
        entry.held = False
        entry.due = time.monotonic() + seconds

    async def _dropped(self, entry: Entry, row: OutboxMessage) -> None:
        """Telegram refused the call: drop it, and queue its fallback text if it has one."""
        fallback: OutboxMessage | None = None
        async with self._database.transaction() as session:
            await drop(session, [row], datetime.now(UTC))
            effect = from_json(row.effect)
            if isinstance(effect, FallbackText):  # a reaction's: an answer to a person
                fallback = outbox.message(
                    row.chat_id, Method.SEND_MESSAGE, effect.payload, priority=Priority.ANSWER
                )
                session.add(fallback)
        self._lanes.remove(entry)
        if fallback is not None:
            self._queued([fallback])

    async def _give_up(self, entry: Entry) -> None:
        """Drop a row whose sending keeps failing in Agora itself (a chart that cannot be
        drawn, say): its digest ends failed rather than "sending" forever."""
        try:
            async with self._database.transaction() as session:
                row = await session.get(OutboxMessage, entry.id)
                if row is not None and row.status == PENDING:
                    await drop(session, [row], datetime.now(UTC))
        except SQLAlchemyError:
            log.exception("could not drop outbox row %d", entry.id)
            entry.due = time.monotonic() + MAX_BACKOFF
            return
        self._lanes.remove(entry)

    async def _blocked(self, chat_id: int) -> None:
        async with self._database.transaction() as session:
            await drop(session, await pending_rows(session, chat_id=chat_id), datetime.now(UTC))
            await deactivate_chat(session, chat_id)
        self._lanes.drop_chat(chat_id)
        self._blocked_hook(chat_id)

    async def _migrated(self, entry: Entry, new_id: int) -> None:
        """The group became a supergroup: move it, and send its queue to the new id."""
        old_id = entry.chat_id
        async with self._database.transaction() as session:
            chat = await migrate_chat(session, old_id, new_id)
            await readdress(session, old_id, new_id)
            await release(session, entry.id)
        entry.held = False
        log.info("chat %s became supergroup %s: its queue follows", old_id, new_id)
        self._lanes.move_chat(old_id, new_id)
        self._migrated_hook(old_id, chat)
