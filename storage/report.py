"""What the report page reads beside the all-chats totals (storage.totals): each chat's
participation in an article, the article's opinions, and which articles have polls. All from
the polls' own counts and the opinions, never from the answers, so that a report costs the
same at a thousand answers and at a million. Query functions: they take a session and never
commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, Opinion, PostedPoll, QuestionTotal

LATEST_OPINIONS = 20


@dataclass(frozen=True, slots=True)
class ChatParticipation:
    """One chat's part in an article: its title (None for a private chat: a person's name is
    not the report's to show), the voters of its most answered question, its opinions, and
    when it last posted a poll or an opinion."""

    chat_id: int
    title: str | None
    voters: int
    opinions: int
    last_activity: datetime | None


@dataclass(frozen=True, slots=True)
class ReportedOpinion:
    """An opinion as the report shows it: what it is about and when, never who wrote it."""

    question_key: str | None
    created_at: datetime
    text: str


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


async def participation(session: AsyncSession, article_id: str) -> list[ChatParticipation]:
    """Every chat that posted the article's polls or wrote opinions on it."""
    # A question's voters in a chat: its polls' voters added up (a chat may post it again).
    per_question = (
        select(
            PostedPoll.chat_id,
            func.sum(PostedPoll.voter_count).label("voters"),
            func.max(PostedPoll.posted_at).label("posted"),
        )
        .where(PostedPoll.article_id == article_id)
        .group_by(PostedPoll.chat_id, PostedPoll.question_key)
        .subquery()
    )
    polls = await session.execute(
        select(
            per_question.c.chat_id, func.max(per_question.c.voters), func.max(per_question.c.posted)
        ).group_by(per_question.c.chat_id)
    )
    voters: dict[int, tuple[int, datetime | None]] = {
        chat_id: (int(count or 0), posted) for chat_id, count, posted in polls
    }
    written = await session.execute(
        select(Opinion.chat_id, func.count(), func.max(Opinion.created_at))
        .where(Opinion.article_id == article_id)
        .group_by(Opinion.chat_id)
    )
    opinions = {chat_id: (int(count), last) for chat_id, count, last in written}
    chat_ids = voters.keys() | opinions.keys()
    titles: dict[int, str | None] = {}
    for start in range(0, len(chat_ids), 5000):  # bound the IN list (SQLite's 32,766)
        some = sorted(chat_ids)[start : start + 5000]
        rows = await session.execute(
            select(Chat.id, Chat.type, Chat.title).where(Chat.id.in_(some))
        )
        titles |= {i: None if kind == "private" else title for i, kind, title in rows}
    return [
        ChatParticipation(
            chat_id,
            titles.get(chat_id),
            voters.get(chat_id, (0, None))[0],
            opinions.get(chat_id, (0, None))[0],
            _latest(voters.get(chat_id, (0, None))[1], opinions.get(chat_id, (0, None))[1]),
        )
        for chat_id in chat_ids
    ]


async def latest_opinions(
    session: AsyncSession, article_id: str, limit: int = LATEST_OPINIONS
) -> list[ReportedOpinion]:
    """The article's newest opinions, in every chat (deleted ones are gone from the table)."""
    rows = await session.execute(
        select(Opinion.question_key, Opinion.created_at, Opinion.text)
        .where(Opinion.article_id == article_id)
        .order_by(Opinion.created_at.desc(), Opinion.id.desc())
        .limit(limit)
    )
    return [ReportedOpinion(key, created_at, text) for key, created_at, text in rows]


async def voters_per_article(session: AsyncSession) -> dict[str, int]:
    """Per article with polls: the voters of its most answered question, all chats together."""
    rows = await session.execute(
        select(QuestionTotal.article_id, func.max(QuestionTotal.voters)).group_by(
            QuestionTotal.article_id
        )
    )
    return {article_id: int(count or 0) for article_id, count in rows}
