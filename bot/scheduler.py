"""Daily digests: one APScheduler job per subscribed chat, and delivery exactly once a day.

Each subscribed chat has a daily job (python-telegram-bot's JobQueue, i.e. an APScheduler
cron trigger in the chat's time zone, so 09:00 stays 09:00 across daylight-saving changes).
Settings changes re-arm the job at once; start-up re-arms every job from the database and
sends, once, a digest missed while the bot was down earlier the same local day.

Delivery records the digest (chat, local date, numbers) and commits before the first message
goes out; the unique (chat, daily date) pair makes a second daily delivery impossible, even
after a crash right after sending. A digest none of whose messages went out is forgotten and
retried a little later.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time as monotonic_time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.constants import ChatType, ParseMode
from telegram.error import ChatMigrated, Forbidden, TelegramError
from telegram.ext import CallbackContext, Job, JobQueue

from bot.chart import ChartLabels, ChartQuestion, render_chart
from bot.content import Library
from bot.digest import (
    EXCERPTS,
    LAST_OPINION,
    Numbers,
    OpinionNews,
    caption,
    chart_labels,
    chart_questions,
    digest_blocks,
    has_votes,
    to_numbers,
)
from bot.formatting import split_blocks
from bot.i18n import using_language
from bot.services import Services
from bot.settings import Settings
from storage.digests import (
    FAILED,
    SENT,
    claim_digest,
    daily_digests_since,
    finish_digest,
    forget_digest,
    has_daily_digest,
    migrate_chat,
    previous_digest,
    subscribed_chats,
)
from storage.models import Chat
from storage.opinions import opinions_after
from storage.queries import QuestionTally, article_results

log = logging.getLogger(__name__)

JOB_PREFIX = "digest:"
DIGESTS_KEY = "agora_digests"
RETRY_DELAY = timedelta(minutes=5)
MAX_RETRIES = 3
CONCURRENT_DELIVERIES = 32
DRAWING_THREADS = 2
ALL_CHATS_TTL = 30.0  # seconds the all-chats numbers are reused during a fan-out

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class Outcome(enum.Enum):
    SENT = "sent"
    ALREADY_SENT = "already sent"
    SKIPPED = "skipped"
    FORBIDDEN = "forbidden"
    FAILED = "failed"


def chat_zone(chat: Chat, settings: Settings) -> ZoneInfo:
    return ZoneInfo(chat.timezone or settings.timezone)


def chat_time(chat: Chat, settings: Settings) -> time:
    if chat.digest_time:
        hours, minutes = chat.digest_time.split(":")
        return time(int(hours), int(minutes))
    return settings.digest_time


def chat_language(chat: Chat, settings: Settings) -> str:
    return chat.language or chat.user_language or settings.default_language


@dataclass(frozen=True, slots=True)
class ComposedDigest:
    numbers: Numbers
    parts: list[str]
    chart: tuple[list[ChartQuestion], ChartLabels] | None
    caption: str


class DigestScheduler:
    """Arms, re-arms and runs the daily digest jobs."""

    def __init__(
        self, services: Services, bot: Bot, job_queue: JobQueue[Any], clock: Clock
    ) -> None:
        self._services = services
        self._bot = bot
        self._jobs = job_queue
        self.clock = clock
        self._slots = asyncio.Semaphore(CONCURRENT_DELIVERIES)
        # Charts are drawn in threads; a few at a time bounds memory (each canvas is ~10 MB).
        self._drawing = asyncio.Semaphore(DRAWING_THREADS)
        self._stopping = False
        self._all_chats: dict[str, tuple[float, dict[str, QuestionTally]]] = {}

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
                # A job that runs late (busy loop, suspended machine) still runs; the record
                # of sent digests keeps it to once a day.
                "misfire_grace_time": 6 * 3600,
                "coalesce": True,
            },
        )

    def disarm(self, chat_id: int) -> None:
        job = self.job(chat_id)
        if job is not None:
            job.schedule_removal()

    def stop(self) -> None:
        """No new digest starts from now on (the bot is shutting down); one already recorded
        finishes sending."""
        self._stopping = True

    async def start(self) -> None:
        """Re-arm every subscribed chat from the database; then catch up on missed digests."""
        async with self._services.sessionmaker() as session:
            chats = await subscribed_chats(session)
        for chat in chats:
            self.arm(chat)
        log.info("digests armed for %d chats", len(chats))
        self._jobs.run_once(self._catch_up, when=0, name="digest-catch-up")

    def send_now(self, chat_id: int) -> None:
        """Send a digest right away, outside the daily schedule."""
        self._jobs.run_once(
            self._on_demand, when=0, name=f"digest-now:{chat_id}", chat_id=chat_id
        )

    def due_today(self, chat: Chat, now: datetime) -> bool:
        """Whether the chat's digest time has passed today, in its own time zone."""
        local = now.astimezone(chat_zone(chat, self._settings))
        return local.time() >= chat_time(chat, self._settings)

    async def _catch_up(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        now = self.clock()
        async with self._services.sessionmaker() as session:
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
        await asyncio.gather(*(self.deliver(chat_id, daily=True) for chat_id in missed))

    async def _on_time(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = cast(Job[Any], context.job)
        if job.chat_id is not None:
            await self.deliver(job.chat_id, daily=True)

    async def _on_demand(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = cast(Job[Any], context.job)
        if job.chat_id is not None:
            await self.deliver(job.chat_id, daily=False)

    async def _retry(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = cast(Job[Any], context.job)
        attempt = cast(int, job.data)
        if job.chat_id is not None:
            await self.deliver(job.chat_id, daily=True, attempt=attempt)

    # -- delivery ---------------------------------------------------------------------------

    async def _everywhere(self, session: AsyncSession, article_id: str) -> dict[str, QuestionTally]:
        """All chats' numbers, reused for a few seconds while many digests go out at once."""
        cached = self._all_chats.get(article_id)
        now = monotonic_time.monotonic()
        if cached is None or now - cached[0] > ALL_CHATS_TTL:
            cached = (now, await article_results(session, article_id))
            self._all_chats[article_id] = cached
        return cached[1]

    async def compose(self, session: AsyncSession, chat: Chat, day: date) -> ComposedDigest:
        """What the chat's digest says today: numbers, text, and the chart to draw (if any).

        Reads only the tallies (one row per option of each poll), so its cost does not grow
        with the number of votes."""
        private = chat.type == ChatType.PRIVATE
        article = self._library.get(chat.article_id) or self._library.newest
        here = await article_results(session, article.id, chat.id)
        numbers = to_numbers(here, await self._everywhere(session, article.id))
        previous = await previous_digest(session, chat.id)
        seen = previous.numbers.get(LAST_OPINION) if previous else None
        count, newest = await opinions_after(session, chat.id, article.id, seen, EXCERPTS)
        news = OpinionNews(count, [(o.author, o.text) for o in newest], previous is not None)
        numbers[LAST_OPINION] = newest[0].id if newest else seen
        with using_language(chat_language(chat, self._settings)):
            parts = split_blocks(
                digest_blocks(
                    article, numbers, previous.numbers if previous else None, day, private, news
                )
            )
            chart = None
            if has_votes(numbers):
                chart = (chart_questions(article, numbers), chart_labels(day, private))
            return ComposedDigest(numbers, parts, chart, caption(day, private))

    async def deliver(self, chat_id: int, *, daily: bool, attempt: int = 0) -> Outcome:
        """Compose, record and send one chat's digest."""
        async with self._slots:
            return await self._deliver(chat_id, daily=daily, attempt=attempt)

    async def _deliver(self, chat_id: int, *, daily: bool, attempt: int) -> Outcome:
        now = self.clock()
        settings = self._settings
        async with self._services.sessionmaker() as session, session.begin():
            chat = await session.get(Chat, chat_id)
            if chat is None or not chat.active or self._stopping:
                return Outcome.SKIPPED
            day = now.astimezone(chat_zone(chat, settings)).date()
            if daily and await has_daily_digest(session, chat.id, day):
                return Outcome.ALREADY_SENT
            digest = await self.compose(session, chat, day)
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
            digest_id = record.id
        parts = digest.parts
        # The record is committed: from here on, this digest is never sent twice.
        target, sent_any = chat_id, False
        try:
            try:
                await self._bot.send_message(target, parts[0], parse_mode=ParseMode.HTML)
            except ChatMigrated as exc:  # the group became a supergroup: follow it
                target = await self._migrate(chat_id, int(exc.new_chat_id))
                await self._bot.send_message(target, parts[0], parse_mode=ParseMode.HTML)
            sent_any = True
            for part in parts[1:]:
                await self._bot.send_message(target, part, parse_mode=ParseMode.HTML)
            if digest.chart is not None:
                async with self._drawing:
                    png = await asyncio.to_thread(render_chart, *digest.chart)
                await self._bot.send_photo(target, png, caption=digest.caption)
        except Forbidden:
            log.info("chat %s blocked or removed the bot: its digests stop", target)
            await self._finish(digest_id, FAILED, deactivate=target)
            return Outcome.FORBIDDEN
        except TelegramError as exc:
            log.warning("digest for chat %s failed (%s: %s)", target, type(exc).__name__, exc)
            if sent_any:
                await self._finish(digest_id, FAILED)
            else:
                await self._forget_and_retry(digest_id, target, daily, attempt)
            return Outcome.FAILED
        await self._finish(digest_id, SENT, sent_at=self.clock())
        return Outcome.SENT

    async def _finish(
        self,
        digest_id: int,
        status: str,
        *,
        sent_at: datetime | None = None,
        deactivate: int | None = None,
    ) -> None:
        async with self._services.sessionmaker() as session, session.begin():
            await finish_digest(session, digest_id, status, sent_at)
            if deactivate is not None:
                chat = await session.get(Chat, deactivate)
                if chat is not None:
                    chat.active = False
        if deactivate is not None:
            self.disarm(deactivate)

    async def _forget_and_retry(
        self, digest_id: int, chat_id: int, daily: bool, attempt: int
    ) -> None:
        async with self._services.sessionmaker() as session, session.begin():
            await forget_digest(session, digest_id)
        if daily and attempt < MAX_RETRIES:
            self._jobs.run_once(
                self._retry,
                when=RETRY_DELAY,
                name=f"digest-retry:{chat_id}",
                chat_id=chat_id,
                data=attempt + 1,
            )

    async def _migrate(self, old_id: int, new_id: int) -> int:
        async with self._services.sessionmaker() as session, session.begin():
            chat = await migrate_chat(session, old_id, new_id)
        self.disarm(old_id)
        if chat is not None:
            self.arm(chat)
        return new_id


def digests(context: CallbackContext[Any, Any, Any, Any]) -> DigestScheduler:
    return cast(DigestScheduler, context.bot_data[DIGESTS_KEY])
