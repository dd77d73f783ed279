"""The numbers of an article's report, read in one session: each question's counts in all
chats (the totals), each chat's participation, the newest opinions. Reading them costs the
same whatever the number of answers: nothing here reads a ballot."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Article
from bot.digests.text import STANDOUT_RATERS, Rated, standouts
from bot.report.history import History, read_history
from storage.models import Opinion
from storage.polls import QuestionTally, article_results
from storage.ratings import most_rated_in_article
from storage.report import ChatParticipation, ReportedOpinion, latest_opinions, participation

SHOWN_CHATS = 100  # rows of the page's table of chats; the CSV has every chat


class ChatOrder(Enum):
    """How the table of chats is sorted (the page's `?sort=`)."""

    VOTERS = "voters"
    OPINIONS = "opinions"
    ACTIVITY = "activity"
    TITLE = "title"

    @classmethod
    def of(cls, value: str | None) -> ChatOrder:
        return next((order for order in cls if order.value == value), cls.VOTERS)


@dataclass(frozen=True, slots=True)
class Figures:
    """An article's report, before it is written in a language."""

    article: Article
    results: dict[str, QuestionTally]
    chats: list[ChatParticipation]
    opinions: int
    latest: list[ReportedOpinion]
    # Across chats, the opinion with the broadest agreement and the most divisive one, as
    # the digest names them (bot.digests.text.standouts), once rated by enough people.
    broadest: Rated | None = None
    divisive: Rated | None = None
    # The days of participation and each question's last days (bot.report.history).
    history: History = field(default_factory=History)

    @property
    def voters(self) -> int:
        """The voters of the most answered question, all chats together."""
        return max((tally.voters for tally in self.results.values()), default=0)

    @property
    def chats_with_votes(self) -> int:
        return sum(1 for chat in self.chats if chat.voters)

    def sorted_chats(self, order: ChatOrder) -> list[ChatParticipation]:
        """The chats in `order` (the busiest first; titles alphabetically); ties by id."""
        if order is ChatOrder.TITLE:
            return sorted(self.chats, key=lambda c: ((c.title or "").casefold(), c.chat_id))
        if order is ChatOrder.ACTIVITY:
            stamp = {c.chat_id: c.last_activity.timestamp() if c.last_activity else 0.0
                     for c in self.chats}
            return sorted(self.chats, key=lambda c: (-stamp[c.chat_id], c.chat_id))
        if order is ChatOrder.OPINIONS:
            return sorted(self.chats, key=lambda c: (-c.opinions, -c.voters, c.chat_id))
        return sorted(self.chats, key=lambda c: (-c.voters, -c.opinions, c.chat_id))


async def read_figures(
    session: AsyncSession,
    article: Article,
    zone: ZoneInfo,
    now: datetime,
    opinions_in: Collection[int] | None = None,
) -> Figures:
    """Everything the report of `article` shows, its days counted in `zone`, its opinions
    those of every chat or of `opinions_in` only (the Mini App: its reader's chats)."""
    results = await article_results(session, article.id)  # the totals: a few rows
    opinions = await session.scalar(
        select(func.count()).select_from(Opinion).where(Opinion.article_id == article.id)
    )
    latest, broadest, divisive = await read_opinions(session, article, opinions_in)
    return Figures(
        article,
        results,
        await participation(session, article.id),
        int(opinions or 0),
        latest,
        broadest,
        divisive,
        await read_history(session, article.id, zone, now, results),
    )


async def read_opinions(
    session: AsyncSession, article: Article, chat_ids: Collection[int] | None = None
) -> tuple[list[ReportedOpinion], Rated | None, Rated | None]:
    """The newest opinions, the broadest agreement and the most divisive opinion, in every
    chat or in `chat_ids` only (the Mini App: its reader's chats)."""
    rated = await most_rated_in_article(session, article.id, STANDOUT_RATERS, chat_ids=chat_ids)
    broadest, divisive = standouts([Rated(*row) for row in rated])
    latest = await latest_opinions(session, article.id, chat_ids=chat_ids)
    return latest, broadest, divisive
