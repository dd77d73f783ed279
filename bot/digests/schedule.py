"""When digests go: one APScheduler job per subscribed chat, delivery exactly once a day.

Each subscribed chat has a daily job (python-telegram-bot's JobQueue, i.e. an APScheduler
cron trigger in the chat's time zone, so 09:00 stays 09:00 across daylight-saving changes).
Settings changes re-arm the job at once; start-up re-arms every job from the database and
sends, once, a digest missed while the bot was down earlier the same local day.

Delivery records the digest (chat, local date, numbers) and queues its messages in the
outbox in one transaction; the unique (chat, daily date) pair makes a second daily digest
impossible. A digest asked for now is composed and recorded in the request's own
transaction, after the check of the 10-minute limit, so that requests made together send
one. The sender (bot.engine.sending) delivers the messages after every answer to a person,
retries them through network failures and 429s, and marks the digest sent (or failed, when
the chat blocked the bot) once its last message is out.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from babel.dates import format_time
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import CallbackContext, Job, JobQueue

from bot.core import refusals
from bot.core.i18n import _, current_locale, using_language
from bot.core.library import Library
from bot.core.localtime import Clock, chat_language, chat_time, chat_zone
from bot.core.settings import Settings
from bot.digests.close_schedule import CloseSchedule
from bot.digests.closing import told_closed
from bot.digests.compose import AllChats, compose
from bot.digests.deliver import RateKeyboard, digest_keyboard, queue_digest
from bot.engine.services import Services
from storage.chats import subscribed_chats
from storage.digests import claim_digest, daily_digests_since, has_daily_digest, last_on_demand
from storage.models import Chat

log = logging.getLogger(__name__)

JOB_PREFIX = "digest:"
CONCURRENT_DELIVERIES = 2  # digests composed at once (short transactions, no network)
RETRY_DELAY = timedelta(minutes=1)  # after a database failure, before nothing was recorded
MAX_RETRIES = 5
NOW_INTERVAL = timedelta(minutes=10)  # between two digests on demand in one chat
INBOX_WAIT = 30.0  # seconds the catch-up waits at most for the inbox to start


class Outcome(enum.Enum):
    QUEUED = "queued"
    RETRYING = "retrying"
    ALREADY_SENT = "already sent"
    SKIPPED = "skipped"
    CLOSED = "closed"  # the article's polls are closed and a digest said so: no more


class TooSoon(refusals.TooSoon):
    """The chat's last digest on demand is less than NOW_INTERVAL old: the next one waits."""

    def text(self, zone: ZoneInfo) -> str:
        at = format_time(self.again, format="short", tzinfo=zone, locale=current_locale())
        return _(
            "A digest was sent a moment ago. The next one on demand is possible at {time}."
        ).format(time=at)


class DigestScheduler:
    """Arms, re-arms and runs the daily digest jobs."""

    def __init__(self, services: Services, job_queue: JobQueue[Any], clock: Clock) -> None:
        self._services = services
        self._jobs = job_queue
        self.clock = clock
        self._slots = asyncio.Semaphore(CONCURRENT_DELIVERIES)
        self._stopping = False
        self._all_chats = AllChats()
        #: Whether this process runs the daily jobs (it holds the lease, bot.leadership);
        #: otherwise a chat's changed settings are passed on to the one that does.
        self.leading = True
        self.pass_on: Callable[[int], None] = lambda chat_id: None
        #: The scheduled closes of polls, run alongside the digests by the instance that leads.
        self.closes = CloseSchedule(services, job_queue, clock)
        self.rate_keyboard: RateKeyboard | None = None  # set by bot.app
        # Set by bot.app once the inbox runs: the catch-up first waits for what it holds.
        self.inbox_caught_up: Callable[[], Awaitable[object]] = lambda: asyncio.sleep(0)
        self.inbox_running = asyncio.Event()

    @property
    def _settings(self) -> Settings:
        return self._services.settings

    @property
    def _library(self) -> Library:
        return self._services.library

    # -- scheduling -------------------------------------------------------------------------

    def job(self, chat_id: int) -> Job[Any] | None:
        """The chat's daily job, looked up by its id (not by scanning every job's name)."""
        scheduled = self._jobs.scheduler.get_job(f"{JOB_PREFIX}{chat_id}")
        return Job.from_aps_job(scheduled) if scheduled is not None else None

    def arm(self, chat: Chat) -> None:
        """(Re)schedule the chat's daily digest from its settings, or unschedule it."""
        if not self.leading:
            self.pass_on(chat.id)
            return
        if not (chat.digest_enabled and chat.active):
            self.disarm(chat.id)
            return
        at = chat_time(chat, self._settings).replace(tzinfo=chat_zone(chat, self._settings))
        self._jobs.run_daily(
            self._on_time,
            at,
            name=f"{JOB_PREFIX}{chat.id}",
            chat_id=chat.id,
            job_kwargs={
                # One job per chat, replaced in place when the settings change.
                "id": f"{JOB_PREFIX}{chat.id}",
                "replace_existing": True,
                # A late job (busy loop, suspended machine) still runs, once a day at most.
                "misfire_grace_time": 6 * 3600,
                "coalesce": True,
            },
        )

    def disarm(self, chat_id: int) -> None:
        if not self.leading:
            self.pass_on(chat_id)
            return
        job = self.job(chat_id)
        if job is not None:
            job.schedule_removal()

    def stop(self) -> None:
        """No new digest starts from now (shutting down); one already recorded is sent."""
        self._stopping = True
        self.closes.stop()

    async def start(self) -> None:
        """Re-arm every subscribed chat from the database; then catch up on missed digests."""
        async with self._services.database.read() as session:
            chats = await subscribed_chats(session)
        for chat in chats:
            self.arm(chat)
        log.info("digests armed for %d chats", len(chats))
        self._jobs.run_once(self._catch_up, when=0, name="digest-catch-up")
        await self.closes.start()

    async def deliver_now(self, session: AsyncSession, chat: Chat) -> None:
        """Compose, record and queue a digest outside the daily schedule, in the caller's
        transaction (the request's): the limit is checked and the digest recorded together,
        so of requests made at the same time the first sends one and the others raise
        TooSoon, as does a request within NOW_INTERVAL of the last one."""
        now = self.clock().astimezone(UTC)
        last = await last_on_demand(session, chat.id)
        if last is not None:
            again = last.replace(tzinfo=last.tzinfo or UTC) + NOW_INTERVAL
            if now < again:
                raise TooSoon(again)
        await self._queue(session, chat, now, daily=False)

    def next_time(self, chat: Chat) -> datetime:
        """When the chat's next daily digest is due, in its time zone."""
        zone = chat_zone(chat, self._settings)
        now = self.clock().astimezone(zone)
        at = chat_time(chat, self._settings)
        due = datetime.combine(now.date(), at, tzinfo=zone)
        if due <= now:
            due = datetime.combine(now.date() + timedelta(days=1), at, tzinfo=zone)
        return due

    def due_today(self, chat: Chat, now: datetime) -> bool:
        """Whether the chat's digest time has passed today, in its own time zone."""
        local = now.astimezone(chat_zone(chat, self._settings))
        return local.time() >= chat_time(chat, self._settings)

    async def _catch_up(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self.inbox_running.wait(), timeout=INBOX_WAIT)
        await self.inbox_caught_up()  # votes acknowledged before a crash count here
        now = self.clock()
        async with self._services.database.read() as session:
            chats = await subscribed_chats(session)
            # One query for all: local days differ by at most one around the world.
            sent = await daily_digests_since(session, (now - timedelta(days=1)).date())
        missed = [
            chat.id
            for chat in chats
            if self.due_today(chat, now)
            and (chat.id, now.astimezone(chat_zone(chat, self._settings)).date()) not in sent
        ]
        if missed:
            log.info("sending %d digests missed while the bot was down", len(missed))
        # A few workers take the chats in turn (not one waiting task per chat: thousands).
        chats_left = iter(missed)

        async def worker() -> None:
            for chat_id in chats_left:
                await self.deliver(chat_id, daily=True)

        await asyncio.gather(*(worker() for _ in range(CONCURRENT_DELIVERIES)))

    async def _on_time(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = cast(Job[Any], context.job)
        if job.chat_id is not None:
            await self.deliver(job.chat_id, daily=True)

    # -- delivery ---------------------------------------------------------------------------

    async def deliver(self, chat_id: int, *, daily: bool, attempt: int = 0) -> Outcome:
        """Compose one chat's digest, record it and queue its messages, in one transaction;
        the sender delivers them (after answers to people) and marks the digest sent. If the
        database fails meanwhile, nothing is recorded and the digest is tried again later."""
        async with self._slots:
            try:
                return await self._deliver(chat_id, daily=daily)
            except SQLAlchemyError as exc:
                if attempt >= MAX_RETRIES or self._stopping:
                    log.error("digest for chat %s given up (%s)", chat_id, type(exc).__name__)
                    return Outcome.SKIPPED
                log.warning(
                    "digest for chat %s not recorded (%s); trying again in %s",
                    chat_id,
                    type(exc).__name__,
                    RETRY_DELAY,
                )
                self._jobs.run_once(
                    self._retry,
                    when=RETRY_DELAY,
                    name=f"digest-retry:{chat_id}",
                    chat_id=chat_id,
                    data=(daily, attempt + 1),
                )
                return Outcome.RETRYING

    async def _retry(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = cast(Job[Any], context.job)
        daily, attempt = cast(tuple[bool, int], job.data)
        if job.chat_id is not None:
            await self.deliver(job.chat_id, daily=daily, attempt=attempt)

    async def _deliver(self, chat_id: int, *, daily: bool) -> Outcome:
        now = self.clock().astimezone(UTC)  # stored in UTC (SQLite keeps no offset)
        async with self._services.work.unit() as unit:
            session = unit.session
            chat = await session.get(Chat, chat_id)
            if chat is None or not chat.active or self._stopping:
                return Outcome.SKIPPED
            if daily:
                day = now.astimezone(chat_zone(chat, self._settings)).date()
                if await has_daily_digest(session, chat.id, day):
                    return Outcome.ALREADY_SENT
                article = self._library.current(chat.follows_latest, chat.article_id)
                if await told_closed(session, chat.id, article.id):
                    log.info("no digest for chat %s: %s is closed", chat.id, article.id,
                             extra={"chat_id": chat.id})
                    return Outcome.CLOSED
            return await self._queue(session, chat, now, daily=daily)

    async def _queue(
        self, session: AsyncSession, chat: Chat, now: datetime, *, daily: bool
    ) -> Outcome:
        """Compose the chat's digest, record it and queue its messages in `session`'s
        transaction: they commit together, so this digest is never queued twice."""
        day = now.astimezone(chat_zone(chat, self._settings)).date()
        language = chat_language(chat, self._settings)
        digest = await compose(
            session, chat, day, self._library, language, self._all_chats,
            chat_zone(chat, self._settings),
        )
        record = await claim_digest(
            session,
            chat_id=chat.id,
            local_date=day,
            daily=daily,
            started_at=now,
            numbers=digest.numbers,
        )
        if record is None:
            return Outcome.ALREADY_SENT
        article = self._library.current(chat.follows_latest, chat.article_id)
        with using_language(language):
            keyboard = await digest_keyboard(session, chat, article.id, self.rate_keyboard)
        queue_digest(chat, digest, record.id, keyboard)
        return Outcome.QUEUED

    def moved(self, old_id: int, chat: Chat | None) -> None:
        """A group became a supergroup (`chat`, None if already moved): follow it."""
        self.disarm(old_id)
        if chat is not None:
            self.arm(chat)
