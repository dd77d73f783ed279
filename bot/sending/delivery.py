"""One outbox row's journey: claimed, called, then marked sent with what the call taught, or
handled by what Telegram answered (wait and retry, drop the chat's queue, follow the group to
its supergroup, drop the call); a row that keeps failing in Agora itself is given up."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot import metrics
from bot.sending.calls import Caller
from bot.sending.coalescer import Coalescer
from bot.sending.effects import after_drop, mark_sent
from bot.sending.lanes import Entry, Lanes
from storage.chats import deactivate_chat, migrate_chat
from storage.db import Database
from storage.models import Chat, OutboxMessage
from storage.outbox import (
    DROPPED,
    PENDING,
    claim,
    drop_chat,
    finish,
    new_message,
    readdress,
    release,
)

log = logging.getLogger(__name__)

#: What a row's priority says it is, for the metrics (see bot.outbox.Priority).
KINDS = {0: "answer", 1: "poll", 2: "digest", 3: "announcement"}
MAX_BACKOFF = 60.0
GIVE_UP = 3  # unexpected failures of one row before it is dropped


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

    async def __call__(self, entry: Entry) -> None:
        row = await self._claims(entry.id)
        if row is None:  # sent, dropped, or taken by another sender meanwhile
            self._lanes.remove(entry)
            return
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
            await self._marks((row, result))
            metrics.SENT.labels(row.method, KINDS.get(row.priority, "other")).inc()
            self._lanes.remove(entry)

    async def failed(self, entry: Entry) -> None:
        """The delivery raised (a defect in Agora, not an answer of Telegram's): try again a
        minute later, and drop the row at the GIVE_UP-th failure."""
        log.exception("outbox row %d failed unexpectedly", entry.id,
                      extra={"chat_id": entry.chat_id})
        entry.failures += 1
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
        entry.due = time.monotonic() + seconds

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
                    await finish(session, [row.id], DROPPED, datetime.now(UTC))
                    await after_drop(session, row)
        except SQLAlchemyError:
            log.exception("could not drop outbox row %d", entry.id)
            entry.due = time.monotonic() + MAX_BACKOFF
            return
        self._lanes.remove(entry)

    async def _blocked(self, chat_id: int) -> None:
        async with self._database.transaction() as session:
            for row in await drop_chat(session, chat_id, datetime.now(UTC)):
                await after_drop(session, row)
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
        log.info("chat %s became supergroup %s: its queue follows", old_id, new_id)
        self._lanes.move_chat(old_id, new_id)
        self._migrated_hook(old_id, chat)
