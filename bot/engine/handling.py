"""Handling one update (or one batch of poll answers) in a unit of work: the tries, and what
happens when they fail: postponed with a growing delay, or set aside with its reason and its
sender told. bot.engine.dispatcher decides what to handle; this is how."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.core.i18n import _
from bot.engine import metrics, outbox
from bot.engine.admins import AdminCache, AdminsUnknown, FactsUnknown
from bot.engine.reading import (
    Handled,
    HandledElsewhere,
    HandlerFailed,
    Taken,
    kind_of,
    read_update,
    transient,
)
from bot.engine.transaction import UnitOfWork, Work
from storage.ballots import Answer
from storage.claims import postpone
from storage.inbox import Waiting, set_aside
from storage.updates import handled_among, mark_handled

log = logging.getLogger(__name__)

ATTEMPTS = 3  # tries of an update whose transaction failed, before it is postponed
GIVE_UP = 6  # failed tries after which an update is set aside and its sender told


class Handling:
    """One update, or one batch, in a unit of work, tried and, failing that, postponed or set
    aside (the dispatcher, below, decides which)."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        work: Work,
        admins: AdminCache,
        default_language: str,
        *,
        remember: bool = False,
        keep_personal_data: bool = False,
        read_answer: Callable[[dict[str, Any]], Answer | None] | None = None,
    ) -> None:
        self._app = app
        self._work = work
        self._admins = admins
        # Each update starts in the default language (the handlers then pick the chat's) and
        # leaves nothing behind for the next one.
        self._language = default_language
        #: Record handled updates (webhooks: Telegram may post an update again, to any
        #: instance, after its row is gone); long polling needs only the watermark.
        self.remember = remember
        #: Keep a set-aside update's body (names, texts): LOG_PERSONAL_DATA.
        self.keep_personal_data = keep_personal_data
        #: Reads a plain poll answer as received into the Answer its handler would queue
        #: (handlers.polls.answer_from_json), or None: such answers skip python-telegram-
        #: bot's parsing and dispatch, a vote storm's main cost.
        self._read_answer = read_answer
        self._known_polls: set[str] = set()
        # Whether chatless updates may wait in the inbox postponed (at start: perhaps).
        self._postponed_chatless = True

    def _read(self, kept: Update | dict[str, Any] | None) -> Update | None:
        return read_update(kept, self._app.bot) if isinstance(kept, dict) else kept

    def _read_chatless(self, kept: Update | dict[str, Any] | None) -> Handled | None:
        if isinstance(kept, dict) and self._read_answer is not None:
            answer = self._read_answer(kept)
            if answer is not None:
                return answer
        return self._read(kept)

    def _parse(self, body: str) -> Update | None:
        try:
            raw = json.loads(body)
        except ValueError:
            return None
        return read_update(raw, self._app.bot) if isinstance(raw, dict) else None

    async def _attempts(
        self,
        take: Callable[[AsyncSession], Awaitable[Taken | None]],
        locate: Callable[[], Awaitable[Taken | None]] | None = None,
    ) -> tuple[Waiting | None, bool]:
        """Handle one update in its own unit, which `take` opens (taking the chat's turn, if
        any, and claiming the update's row); the row taken (None: nothing was), and whether
        it is settled (False: it could not be committed, and is postponed). If even the
        claim failed, `locate` says which row it was for (to postpone it)."""
        head: Waiting | None = None
        update: Handled | None = None
        error: BaseException | None = None
        for attempt in range(ATTEMPTS):
            started = time.perf_counter()
            try:
                async with self._work.unit() as unit:
                    taken = await take(unit.session)
                    if taken is None:
                        return head, True  # nothing due, or handled meanwhile elsewhere
                    head, update = taken
                    if self.remember and await handled_among(unit.session, [head.update_id]):
                        return head, True  # a redelivery of an update handled before
                    if update is None:
                        raise HandlerFailed("unreadable")
                    await self._handle(unit, update)
                    failure = unit.failure
                    if failure is not None and (
                        isinstance(failure, FactsUnknown) or transient(failure)
                    ):
                        raise failure
                    if failure is not None:
                        raise HandlerFailed from failure
                    if self.remember:
                        await mark_handled(unit.session, [head.update_id])
                metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
                self._count([update])
                return head, True
            except AdminsUnknown as missing:
                assert head is not None
                try:  # outside any transaction
                    await self._admins.refresh(self._app.bot, missing.chat_id)
                except TelegramError as exc:
                    return head, await self._report(head.update_id, update, exc)
            except FactsUnknown as missing:
                await missing.fetch(self._app.bot)  # outside any transaction
            except HandlerFailed as failed:
                assert head is not None
                return head, await self._report(head.update_id, update, failed.__cause__ or failed)
            except (SQLAlchemyError, OSError) as exc:
                error = exc
                log.warning(
                    "update %s not committed (%s); trying again",
                    head.update_id if head is not None else "(not taken yet)",
                    type(exc).__name__,
                )
                await asyncio.sleep(0.1 * 2**attempt)
        return await self._not_committed(head, update, error, locate)

    async def _not_committed(
        self,
        head: Waiting | None,
        update: Handled | None,
        error: BaseException | None,
        locate: Callable[[], Awaitable[Taken | None]] | None,
    ) -> tuple[Waiting | None, bool]:
        """After the tries failed to commit: the row postponed, or set aside after GIVE_UP
        failures; if even the claim failed, `locate` says which row it was for."""
        if head is None and locate is not None:  # the claim itself failed: which row?
            try:
                located = await locate()
            except (SQLAlchemyError, OSError):
                located = None
            if located is not None:
                head, update = located
        if head is None:  # nothing known to postpone: the inbox's sweep tries again
            return None, False
        if head.attempts + 1 >= GIVE_UP:
            return head, await self._report(head.update_id, update, error)
        await self._postpone([head.update_id], head.attempts)
        return head, False

    async def _handle(self, unit: UnitOfWork, update: Handled) -> None:
        if isinstance(update, Answer):
            unit.answers.add(update)  # what handlers.polls.store_answer does
        else:
            await self._app.process_update(update)

    async def _postpone(self, update_ids: list[int], attempts: int) -> None:
        """Try again later (a growing delay); if even that cannot be written, the row stays
        as it is and the inbox's sweep finds it."""
        delay = timedelta(seconds=min(60.0, 2.0 * 2**attempts))
        self._postponed_chatless = True
        try:
            async with self._work.database.transaction() as session:
                await postpone(session, update_ids, datetime.now(UTC) + delay)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("could not postpone %d updates (%s)", len(update_ids), type(exc).__name__)

    async def _report(
        self, update_id: int, update: Handled | None, error: BaseException | None
    ) -> bool:
        """Log a failed update, tell its sender in their language, and set it aside."""
        if update is None:  # its reading was logged
            log.warning("update %d unreadable: set aside", update_id)
        else:
            log.error("update %d failed: set aside", update_id, exc_info=error)
        metrics.HANDLER_ERRORS.inc()
        metrics.UPDATES.labels(kind_of(update)).inc()
        reason = "unreadable" if update is None else f"failed: {type(error).__name__}"
        try:
            async with self._work.unit() as unit:
                message = update.effective_message if isinstance(update, Update) else None
                if message is not None:
                    outbox.send_text(
                        message.chat_id,
                        _("Sorry, something went wrong. Please try again later."),
                        thread=message.message_thread_id if message.is_topic_message else None,
                    )
                if not await set_aside(
                    unit.session, update_id, reason, keep_body=self.keep_personal_data
                ):
                    raise HandledElsewhere
                if self.remember:
                    await mark_handled(unit.session, [update_id])
        except HandledElsewhere:
            return True  # another instance handled it meanwhile: nothing to tell
        except (SQLAlchemyError, OSError):
            log.exception("could not set aside update %d", update_id)
            return False
        return True

    @staticmethod
    def _count(updates: list[Handled | None]) -> None:
        kinds = Counter(kind_of(update) for update in updates)
        for kind, n in kinds.items():
            metrics.UPDATES.labels(kind).inc(n)
        if kinds["poll_answer"]:
            metrics.VOTES.inc(kinds["poll_answer"])
