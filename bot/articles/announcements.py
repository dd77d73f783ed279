"""Announcing a new article, once, to every chat that follows the latest article.

When the library gains articles the database has never seen (at start-up or on a reload),
they are recorded as known, and if the latest article is one of them, every following chat
gets one waiting announcement, due at once or, during the chat's night (22:00 to 08:00 in
its time zone), at the next 08:00. The first library ever recorded is the starting point:
nothing in it is announced.

Due announcements are queued in the outbox (lowest priority: after answers, polls and
digests, paced by the sender like every message) in the same transaction that marks them
queued, so each goes out once, whatever restarts happen. One that has become pointless when
due (the chat chose an article, left, or a newer article came) is skipped. A channel that
publishes each new article (/publish @name auto) gets, at the same times, the article's
summary and polls instead of an announcement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.constants import ChatType
from telegram.ext import CallbackContext, JobQueue

from bot.core.commands import POLL, SUMMARY
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, using_language
from bot.core.library import Library
from bot.core.localtime import Clock, chat_language, zone_of
from bot.engine import outbox
from bot.engine.outbox import Priority, queued_polls
from bot.engine.services import Services
from storage.announcements import (
    QUEUED,
    SKIPPED,
    due_announcements,
    following_chats,
    known_articles,
    plan_announcements,
    record_known,
)
from storage.models import Chat
from storage.polls import first_poll_message

log = logging.getLogger(__name__)

MORNING = time(8, 0)  # announcements wait for this hour in the chat's time zone
EVENING = time(22, 0)  # from this hour on, they wait for the next morning
BATCH = 200  # announcements queued per transaction
LOOK_EVERY = timedelta(minutes=1)


def due_time(now: datetime, zone: ZoneInfo) -> datetime:
    """Now, or the next 08:00 in `zone` if it is night there (in UTC)."""
    local = now.astimezone(zone)
    if MORNING <= local.time() < EVENING:
        return now.astimezone(UTC)
    day = local.date() + timedelta(days=1) if local.time() >= EVENING else local.date()
    return datetime.combine(day, MORNING, tzinfo=zone).astimezone(UTC)


def first_paragraph(text: str) -> str:
    return text.strip().split("\n\n", 1)[0].strip()


def announcement_text(article: Article, private: bool) -> str:
    """The announcement in the current language."""
    language = current_language()
    names = {"summary": SUMMARY.name(language), "poll": POLL.name(language)}
    commands = (
        _("Read the summary: /{summary} · Post the polls: /{poll}")
        if private
        else _("Read the summary: /{summary} · Administrators post the polls with /{poll}")
    )
    return "\n\n".join(
        [
            "📰 <b>{}</b>".format(
                escape(_("New article: “{title}”").format(title=article.title[language]))
            ),
            escape(first_paragraph(article.summary[language])),
            commands.format(**names),
        ]
    )


#: Publishes an article in a channel (its summary and polls), in the current language.
Publisher = Callable[[Chat, Article], None]


async def published(session: AsyncSession, chat_id: int, article_id: str) -> bool:
    """Whether the article's polls are in the chat, or on their way."""
    return await first_poll_message(session, chat_id, article_id) is not None or bool(
        await queued_polls(session, chat_id, article_id)
    )


class Announcer:
    """Plans announcements when new articles appear, and queues them when they are due; a
    channel that publishes each new article (`publish`) gets the article itself."""

    def __init__(self, services: Services, clock: Clock, publish: Publisher | None = None) -> None:
        self._services = services
        self.clock = clock
        self._publish = publish

    def start(self, jobs: JobQueue[Any]) -> None:
        jobs.run_repeating(self._look, interval=LOOK_EVERY, first=LOOK_EVERY, name="announce")

    async def _look(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.send_due()

    async def on_library(self, library: Library) -> None:
        """Record the library's new articles, plan the announcement of the latest if it is
        new, and queue what is due."""
        await self.plan(library)
        await self.send_due()

    async def plan(self, library: Library) -> int:
        """How many announcements were planned for the library's new latest article."""
        now = self.clock().astimezone(UTC)
        async with self._services.work.unit() as unit:
            session = unit.session
            known = await known_articles(session)
            fresh = [a.id for a in library.articles if a.id not in known]
            if not fresh:
                return 0
            await record_known(session, fresh, now)
            latest = library.latest
            if not known or latest is None or latest.id not in fresh:
                return 0
            chats = await following_chats(session)
            settings = self._services.settings
            due = [(chat_id, due_time(now, zone_of(name, settings))) for chat_id, name in chats]
            await plan_announcements(session, latest.id, due)
        log.info("new article %s: %d following chats will be told", latest.id, len(due))
        return len(due)

    async def send_due(self) -> int:
        """Queue every announcement that is due; how many were queued."""
        queued = 0
        while True:
            done, sent = await self._send_batch()
            queued += sent
            if done < BATCH:
                return queued

    async def _send_batch(self) -> tuple[int, int]:
        now = self.clock().astimezone(UTC)
        library = self._services.library
        settings = self._services.settings
        sent = 0
        async with self._services.work.unit() as unit:
            found = await due_announcements(unit.session, now, BATCH)
            for announcement, chat in found:
                article = library.get(announcement.article_id)
                latest = library.latest
                if (
                    article is None
                    or latest is None
                    or latest.id != article.id
                    or not chat.active
                    or not chat.follows_latest
                ):
                    announcement.status = SKIPPED
                    continue
                if chat.type == ChatType.CHANNEL:
                    if (
                        not chat.publish_auto
                        or self._publish is None
                        or await published(unit.session, chat.id, article.id)
                    ):
                        announcement.status = SKIPPED
                        continue
                    with using_language(chat_language(chat, settings)):
                        self._publish(chat, article)
                    announcement.status = QUEUED
                    sent += 1
                    continue
                with using_language(chat_language(chat, settings)):
                    text = announcement_text(article, chat.type == ChatType.PRIVATE)
                outbox.send_text(
                    chat.id, text, thread=chat.digest_thread_id, priority=Priority.ANNOUNCEMENT
                )
                announcement.status = QUEUED
                sent += 1
        return len(found), sent
