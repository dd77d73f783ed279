"""Composing a chat's digest for a day: a function of a session, a chat, a day and the
articles, with no Bot and no JobQueue (the schedule calls it; the fan-out bench times it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.constants import ChatType

from bot.core.formatting import split_blocks
from bot.core.i18n import using_language
from bot.core.library import Library
from bot.digests.chart import caption, chart_spec
from bot.digests.closing import close_note, hidden_results
from bot.digests.drawing.style import TREND_DAYS
from bot.digests.text import (
    EXCERPTS,
    LAST_OPINION,
    STANDOUT_RATERS,
    Numbers,
    OpinionNews,
    Rated,
    digest_blocks,
    has_votes,
    hidden_digest_blocks,
    recorded,
    standouts,
    to_numbers,
)
from bot.insights.results_text import channel_line
from bot.insights.standings import Earlier
from storage.channels import identified_respondents, opinions_chat
from storage.digests import digest_before, digests_since, previous_digest
from storage.models import Chat
from storage.opinions import opinions_after
from storage.polls import QuestionTally, article_results
from storage.ratings import rated_opinions

UTC_ZONE = ZoneInfo("UTC")
ALL_CHATS_TTL = 30.0  # seconds the all-chats numbers are reused during a fan-out


@dataclass(frozen=True, slots=True)
class ComposedDigest:
    numbers: Numbers
    parts: list[str]
    chart: dict[str, Any] | None  # see bot.digests.chart.chart_spec
    caption: str


class AllChats:
    """All chats' numbers of an article, reused for a few seconds while many digests go out
    at once (2,000 digests would otherwise read every chat's tallies 2,000 times); read anew
    on another day, or when a chat already counts more voters than they do (votes came in
    since), so that a digest never shows fewer voters in all chats than in its own."""

    def __init__(self, ttl: float = ALL_CHATS_TTL) -> None:
        self._ttl = ttl
        self._cached: dict[tuple[str, date], tuple[float, dict[str, QuestionTally]]] = {}

    async def numbers(
        self, session: AsyncSession, article_id: str, day: date, here: dict[str, QuestionTally]
    ) -> dict[str, QuestionTally]:
        key, now = (article_id, day), time.monotonic()
        cached = self._cached.get(key)
        if (
            cached is None
            or now - cached[0] > self._ttl
            or any(t.voters > cached[1].get(k, QuestionTally()).voters for k, t in here.items())
        ):
            cached = (now, await article_results(session, article_id))
            self._cached = {k: v for k, v in self._cached.items() if k[1] == day}
            self._cached[key] = cached
        return cached[1]


async def compose(
    session: AsyncSession,
    chat: Chat,
    day: date,
    library: Library,
    language: str,
    everywhere: AllChats,
    zone: ZoneInfo = UTC_ZONE,
) -> ComposedDigest:
    """What the chat's digest says on `day`, in `language` (times in `zone`, the chat's):
    numbers, text, and the chart to draw (if any). Reads only the tallies (one row per option
    of each poll), so its cost does not grow with the number of votes."""
    article = library.current(chat.follows_latest, chat.article_id)
    latest = library.latest
    newer = latest if latest is not None and latest.source_date > article.source_date else None
    here = await article_results(session, article.id, chat.id)
    numbers = to_numbers(here, await everywhere.numbers(session, article.id, day, here))
    previous = await previous_digest(session, chat.id)
    seen = previous.numbers.get(LAST_OPINION) if previous else None
    # A channel's opinions are written in its discussion group.
    written_in = opinions_chat(chat)
    count, newest = await opinions_after(session, written_in, article.id, seen, EXCERPTS)
    rated = await rated_opinions(session, written_in, article.id, STANDOUT_RATERS)
    broadest, divisive = standouts([Rated(*row) for row in rated])
    news = OpinionNews(
        count, [(o.author, o.text) for o in newest], previous is not None, broadest, divisive
    )
    numbers[LAST_OPINION] = newest[0].id if newest else seen
    with using_language(language):
        hidden = await hidden_results(session, chat.id, article, zone)
        if hidden is not None:  # until the close: how many answered, no chart
            return ComposedDigest(
                numbers, split_blocks(hidden_digest_blocks(day, hidden, news)), None, ""
            )
        closing = await close_note(session, chat.id, article.id, zone)
        blocks = digest_blocks(
            article, numbers, previous.numbers if previous else None, day, chat.type, news,
            newer, closing,
        )
        if chat.type == ChatType.CHANNEL:  # whose results, and who answered in person
            respondents = await identified_respondents(session, article.id, chat.id)
            blocks[0] += "\n" + channel_line(chat, respondents)
        parts = split_blocks(blocks)
        chart = None
        if has_votes(numbers):
            since = day - timedelta(days=TREND_DAYS - 1)
            history = await digests_since(session, chat.id, since)
            chart = chart_spec(article, numbers, day, chat.type, history)
        return ComposedDigest(numbers, parts, chart, caption(day, chat.type))


async def earlier_count(session: AsyncSession, chat_id: int, day: date) -> Earlier | None:
    """The counts of the chat's latest digest sent before `day` (a local date), for the
    changes /results shows since then; None without one."""
    previous = await digest_before(session, chat_id, day)
    return Earlier(previous.local_date, recorded(previous.numbers)) if previous else None
