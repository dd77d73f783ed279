"""When scheduled closes and their reminders happen: a sweep of the stored schedule, exactly
once each.

The schedule lives in the database (poll_closes), not in memory: the instance that leads
sweeps it at start (a close due while the bot was down happens then), every SWEEP_EVERY
seconds, and at the very moment of a close or reminder it armed (python-telegram-bot's
JobQueue). Each close and each reminder is claimed by a conditional update in the unit that
queues its messages, so that sweeps racing (a job and the periodic sweep, two instances
around a change of leader) do it once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram.ext import CallbackContext, JobQueue

from bot.core.i18n import using_language
from bot.core.localtime import Clock, chat_language, chat_zone
from bot.digests.closing import Closing, close_now, stored_time
from bot.engine import outbox
from bot.engine.services import Services
from bot.insights.closing_text import reminder_text
from storage.closes import claim_reminder, due_closes, due_reminders, get_close, next_due
from storage.models import Chat
from storage.polls import article_results, first_poll_message

log = logging.getLogger(__name__)

SWEEP_EVERY = 30.0  # seconds: how late a close armed by another instance may be, at most


class CloseSchedule:
    """Runs the scheduled closes and reminders (on the instance that leads)."""

    def __init__(self, services: Services, jobs: JobQueue[Any], clock: Clock) -> None:
        self._services = services
        self._jobs = jobs
        self.clock = clock
        self._running = False

    async def start(self) -> None:
        """Sweep now (what came due while the bot was down), then regularly; arm the moments
        to come."""
        self._running = True
        self._jobs.run_once(self._on_time, when=0, name="close-catch-up")
        self._jobs.run_repeating(
            self._on_time, interval=SWEEP_EVERY, first=SWEEP_EVERY, name="close-sweep"
        )
        async with self._services.database.read() as session:
            self.arm(await next_due(session))

    def stop(self) -> None:
        self._running = False

    def arm(self, moments: Iterable[datetime | None]) -> None:
        """Sweep at each of these moments (a close, a reminder), if this instance sweeps; the
        periodic sweep covers the others."""
        if not self._running:
            return
        now = self.clock()
        for moment in moments:
            at = stored_time(moment)
            if at is not None and at > now:
                # However late it runs (a busy loop, a suspended machine), it runs.
                self._jobs.run_once(
                    self._on_time, when=at, name="close-at",
                    job_kwargs={"misfire_grace_time": None},
                )

    async def _on_time(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.sweep()

    async def sweep(self) -> int:
        """Do the closes and reminders due now; how many were done."""
        if not self._running:
            return 0
        now = self.clock().astimezone(UTC)
        try:
            async with self._services.database.read() as session:
                closes = await due_closes(session, now)
                reminders = await due_reminders(session, now)
            done = 0
            for chat_id, article_id in closes:
                done += await self._close(chat_id, article_id, now)
            for chat_id, article_id in reminders:
                done += await self._remind(chat_id, article_id, now)
        except SQLAlchemyError as exc:  # the next sweep tries again: nothing was recorded
            log.warning("scheduled closes not swept (%s)", type(exc).__name__)
            return 0
        return done

    def _closing(self, chat: Chat, article_id: str) -> Closing | None:
        article = self._services.library.get(article_id)
        if article is None:
            return None
        settings = self._services.settings
        return Closing(chat, article, chat_zone(chat, settings), chat.digest_thread_id)

    async def _close(self, chat_id: int, article_id: str, now: datetime) -> bool:
        async with self._services.work.unit() as unit:
            chat = await unit.session.get(Chat, chat_id)
            closing = self._closing(chat, article_id) if chat is not None else None
            if chat is None or closing is None:
                log.warning("close of %s in chat %s: no such article or chat", article_id,
                            chat_id)
                return False
            with using_language(chat_language(chat, self._services.settings)):
                return await close_now(unit.session, closing, now)

    async def _remind(self, chat_id: int, article_id: str, now: datetime) -> bool:
        async with self._services.work.unit() as unit:
            session = unit.session
            chat = await session.get(Chat, chat_id)
            close = await get_close(session, chat_id, article_id)
            if chat is None or close is None or close.due_at is None or not chat.active:
                return False
            if not await claim_reminder(session, chat_id, article_id, now):
                return False
            first = await first_poll_message(session, chat_id, article_id)
            if first is None:  # nothing to answer yet: no reminder
                return False
            results = await article_results(session, article_id, chat_id)
            voters = max((tally.voters for tally in results.values()), default=0)
            due = stored_time(close.due_at)
            assert due is not None
            settings = self._services.settings
            with using_language(chat_language(chat, settings)):
                text = reminder_text(due.astimezone(chat_zone(chat, settings)), voters)
            outbox.send_text(
                chat_id, text, thread=chat.digest_thread_id, reply_to=first if first > 0 else None
            )
            return True
