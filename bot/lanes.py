"""Per-chat lanes: a batch of updates handled chats in parallel, each chat in order.

Each update is handled in its own short unit of work (bot.transaction), which also records
it as handled, so that a redelivery after a crash is skipped. Poll answers and other updates
without a chat are handled together in one unit (answers applied in bulk, storage.ballots),
before the chats' lanes. Once every update of a batch has committed, the batch's last id is
recorded (and the handled ids below it forgotten), and Telegram may be told to forget it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot import metrics, outbox
from bot.admins import AdminCache, AdminsUnknown
from bot.i18n import _, using_language
from bot.transaction import Work
from storage.queries import (
    acknowledge_updates,
    already_handled,
    handled_among,
    last_handled,
    mark_handled,
    take_turn,
)

log = logging.getLogger(__name__)

LANES = 16  # chats handled at once
ATTEMPTS = 3  # tries of an update whose transaction failed, per batch
GIVE_UP = 6  # failed tries after which an update is reported and skipped


def lane_of(update: Update) -> int | None:
    """The chat whose lane handles the update (None: handled with the poll answers). A
    group's last message, saying it became a supergroup, goes in the supergroup's lane."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id:
        return message.migrate_to_chat_id
    return update.effective_chat.id if update.effective_chat is not None else None


def turn_of(update: Update) -> int | None:
    """Whose turn an update delivered alone (a webhook) waits for: its chat's, or for a poll
    answer its voter's (a person's answers to a poll must be applied in order)."""
    lane = lane_of(update)
    if lane is None and update.poll_answer is not None and update.poll_answer.user is not None:
        return update.poll_answer.user.id
    return lane


class HandlerFailed(Exception):
    """A handler raised: the update's unit is rolled back and the user told."""


def read_update(raw: dict[str, Any], bot: Bot) -> Update | None:
    """An update as python-telegram-bot reads it; None (logged) if this version cannot read
    it: such an update is handled as nothing, so it neither blocks the others nor comes back
    forever (polling and webhooks alike)."""
    try:
        return Update.de_json(raw, bot)
    except Exception:
        log.exception("skipping update #%s that could not be parsed", raw.get("update_id"))
        return None


def transient(error: BaseException) -> bool:
    """Whether a handler's error may pass if the update is tried again: the database's, or a
    connection's (an OSError naming no file). A file error is a defect, reported at once."""
    return isinstance(error, SQLAlchemyError) or (
        isinstance(error, OSError) and error.filename is None
    )


class Dispatcher:
    """Handles batches of updates for the poller."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        work: Work,
        admins: AdminCache,
        default_language: str,
        lanes: int = LANES,
    ) -> None:
        self._app = app
        self._work = work
        self._admins = admins
        # Each update starts in the default language (the handlers then pick the chat's) and
        # leaves nothing behind for the next one.
        self._language = default_language
        self._slots = asyncio.Semaphore(lanes)
        self._failures: Counter[int] = Counter()
        # Updates above this id were never fetched before, so cannot have been handled: only
        # a batch fetched again (after a crash or a failed batch) needs the database's word.
        self._seen: int | None = None
        # Turns taken by updates delivered one by one (webhooks), by chat: waiting here keeps
        # a connection free that the database's lock would otherwise hold while waiting.
        self._turns: dict[int, tuple[asyncio.Lock, int]] = {}

    async def handle_one(self, update_id: int, update: Update | None) -> bool:
        """Handle an update delivered on its own (a webhook) in its chat's turn; True once it
        is committed, now or before: a redelivered update does nothing."""
        key = turn_of(update) if update is not None else None
        async with self._turn(key):
            return await self._one(update_id, update, key, once=True)

    @asynccontextmanager
    async def _turn(self, key: int | None) -> AsyncIterator[None]:
        if key is None:
            yield
            return
        lock, users = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[key]
            if users == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, users - 1)

    async def handle(self, batch: list[tuple[int, Update | None]]) -> bool:
        """Handle a batch (an update None could not be read) and record it as done; True once
        all of it is committed, and Telegram may be told to forget it."""
        last = max(update_id for update_id, _ in batch)
        async with self._work.database.read() as session:
            if self._seen is None:
                self._seen = await last_handled(session)
            again = [update_id for update_id, _ in batch if update_id <= self._seen]
            done = await handled_among(session, again)
        self._seen = max(self._seen, last)
        chatless: list[tuple[int, Update | None]] = []
        chats: defaultdict[int, list[tuple[int, Update]]] = defaultdict(list)
        for update_id, update in batch:
            if update_id in done:
                continue
            lane = lane_of(update) if update is not None else None
            if update is None or lane is None:
                chatless.append((update_id, update))
            else:
                chats[lane].append((update_id, update))
        # A batch of poll answers alone (a vote storm) commits in one transaction, with the
        # batch's acknowledgement; otherwise the lanes follow, then the acknowledgement.
        with using_language(self._language):
            settled = await self._chatless(chatless, last if not chats else None)
        if not chats:
            return settled
        lanes = await asyncio.gather(
            *(self._lane(chat, updates) for chat, updates in chats.items())
        )
        if not (settled and all(lanes)):
            return False
        async with self._work.database.transaction() as session:
            await acknowledge_updates(session, last)
        return True

    async def _chatless(self, updates: list[tuple[int, Update | None]], last: int | None) -> bool:
        """Poll answers and the like, in one unit (which acknowledges the batch up to `last`,
        if given); one by one if any of them fails."""
        if not updates:
            return True
        try:
            async with self._work.unit() as unit:
                for _update_id, update in updates:
                    if update is not None:
                        await self._app.process_update(update)
                    if unit.failure is not None:
                        raise HandlerFailed from unit.failure
                if last is not None:
                    await acknowledge_updates(unit.session, last)
                else:
                    await mark_handled(unit.session, [update_id for update_id, _ in updates])
            for _update_id, update in updates:
                kind = metrics.update_type(update)
                metrics.UPDATES.labels(kind).inc()
                if kind == "poll_answer":
                    metrics.VOTES.inc()
            return True
        except (HandlerFailed, SQLAlchemyError, OSError) as exc:
            log.warning(
                "batch of %d updates failed (%s): one by one", len(updates), type(exc).__name__
            )
        settled = True
        for update_id, update in updates:
            settled = await self._one(update_id, update) and settled
        if settled and last is not None:
            async with self._work.database.transaction() as session:
                await acknowledge_updates(session, last)
        return settled

    async def _lane(self, chat: int, updates: list[tuple[int, Update]]) -> bool:
        async with self._slots:
            for update_id, update in updates:
                if not await self._one(update_id, update, chat):
                    return False  # the chat's later updates wait: order within a chat
            return True

    async def _one(
        self, update_id: int, update: Update | None, chat: int | None = None, *, once: bool = False
    ) -> bool:
        """Handle one update in its own unit; False if it could not be committed."""
        with using_language(self._language):  # a failure is told in the chat's language
            return await self._attempts(update_id, update, turn=chat, once=once)

    async def _attempts(
        self, update_id: int, update: Update | None, *, turn: int | None, once: bool = False
    ) -> bool:
        """Handle the update, in the turn of `turn` (a chat, across processes); with `once`,
        first check in the same transaction that it was not handled already."""
        for attempt in range(ATTEMPTS):
            started = time.perf_counter()
            try:
                async with self._work.unit() as unit:
                    if turn is not None:
                        await take_turn(unit.session, turn)
                    if once and await already_handled(unit.session, update_id):
                        return True
                    if update is not None:
                        await self._app.process_update(update)
                    failure = unit.failure
                    if failure is not None and (
                        isinstance(failure, AdminsUnknown) or transient(failure)
                    ):
                        raise failure
                    if unit.failure is not None:
                        raise HandlerFailed from unit.failure
                    await mark_handled(unit.session, [update_id])
                self._failures.pop(update_id, None)
                metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
                kind = metrics.update_type(update)
                metrics.UPDATES.labels(kind).inc()
                if kind == "poll_answer":
                    metrics.VOTES.inc()
                return True
            except AdminsUnknown as missing:
                try:  # outside any transaction
                    await self._admins.refresh(self._app.bot, missing.chat_id)
                except TelegramError as exc:
                    return await self._report(update_id, update, exc)
            except HandlerFailed as failed:
                return await self._report(update_id, update, failed.__cause__)
            except (SQLAlchemyError, OSError) as exc:
                self._failures[update_id] += 1
                # Delivered alone (a webhook), it is never skipped: Telegram sends it again.
                if self._failures[update_id] >= GIVE_UP and not once:
                    return await self._report(update_id, update, exc)
                log.warning(
                    "update %d not committed (%s); trying again", update_id, type(exc).__name__
                )
                await asyncio.sleep(0.1 * 2**attempt)
        return False

    async def _report(
        self, update_id: int, update: Update | None, error: BaseException | None
    ) -> bool:
        """Log a failed update, tell its sender in their language, and skip it from now on."""
        log.error("update %d failed", update_id, exc_info=error)
        metrics.HANDLER_ERRORS.inc()
        metrics.UPDATES.labels(metrics.update_type(update)).inc()
        self._failures.pop(update_id, None)
        try:
            async with self._work.unit() as unit:
                message = update.effective_message if update is not None else None
                if message is not None:
                    outbox.send_text(
                        message.chat_id,
                        _("Sorry, something went wrong. Please try again later."),
                        thread=message.message_thread_id if message.is_topic_message else None,
                    )
                await mark_handled(unit.session, [update_id])
        except (SQLAlchemyError, OSError):
            log.exception("could not record the failure of update %d", update_id)
            return False
        return True
