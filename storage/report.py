"""What the report page reads beside the all-chats totals (storage.totals): each chat's
participation in an article, the article's opinions, and which articles have polls. All from
the polls' own counts and the opinions, never from the answers, so that a report costs the
same at a thousand answers and at a million. Query functions: they take a session and never
commit."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, func, literal, select, type_coerce, union, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.closes import CURRENT_ROUND
from storage.models import Ballot, ChannelManager, Chat, Opinion, PostedPoll, QuestionTotal

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


async def participation(session: AsyncSession, article_id: str) -> list[ChatParticipation]:
    """Every chat that posted the article's polls or wrote opinions on it."""
    # A chat posts an article's polls once (handlers/polls refuses a second time): one poll
    # per question, so the chat's most answered poll is its most answered question. Polls
    # and opinions are grouped per chat apart, then together, by the database: one row per
    # chat comes back (10,000 at most in the benchmark), without ORM loading.
    polls = (
        select(
            PostedPoll.chat_id.label("chat_id"),
            func.max(PostedPoll.voter_count).label("voters"),
            literal(0).label("opinions"),
            func.max(PostedPoll.posted_at).label("moment"),
        )
        .where(PostedPoll.article_id == article_id, CURRENT_ROUND)
        .group_by(PostedPoll.chat_id)
    )
    written = (
        select(
            Opinion.chat_id.label("chat_id"),
            literal(0).label("voters"),
            func.count().label("opinions"),
            func.max(Opinion.created_at).label("moment"),
        )
        .where(Opinion.article_id == article_id)
        .group_by(Opinion.chat_id)
    )
    both = union_all(polls, written).subquery()
    per_chat = (
        select(
            both.c.chat_id,
            func.max(both.c.voters).label("voters"),
            func.sum(both.c.opinions).label("opinions"),
            type_coerce(func.max(both.c.moment), DateTime(timezone=True)).label("moment"),
        )
        .group_by(both.c.chat_id)
        .subquery()
    )
    connection = await session.connection()
    rows = await connection.execute(
        select(Chat.id, Chat.type, Chat.title, *per_chat.c[1:]).join(
            per_chat, per_chat.c.chat_id == Chat.id
        )
    )
    return [
        ChatParticipation(
            chat_id, None if kind == "private" else title, voters or 0, int(opinions or 0), moment
        )
        for chat_id, kind, title, voters, opinions, moment in rows.all()
    ]


async def latest_opinions(
    session: AsyncSession,
    article_id: str,
    limit: int = LATEST_OPINIONS,
    chat_ids: Collection[int] | None = None,
) -> list[ReportedOpinion]:
    """The article's newest opinions, in every chat or in `chat_ids` (deleted ones are gone
    from the table)."""
    query = select(Opinion.question_key, Opinion.created_at, Opinion.text).where(
        Opinion.article_id == article_id
    )
    if chat_ids is not None:
        query = query.where(Opinion.chat_id.in_(list(chat_ids)))
    rows = await session.execute(
        query.order_by(Opinion.created_at.desc(), Opinion.id.desc()).limit(limit)
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


async def chats_of_person(
    session: AsyncSession, user_id: int, limit: int = 50
) -> list[tuple[int, str]]:
    """(id, type) of the groups and channels where the person voted or wrote, or that they
    linked (a channel): where the Mini App asks Telegram whether they administer them."""
    voted = (
        select(PostedPoll.chat_id)
        .join(Ballot, Ballot.poll_id == PostedPoll.poll_id)
        .where(Ballot.user_id == user_id)
    )
    wrote = select(Opinion.chat_id).where(Opinion.user_id == user_id)
    linked = select(ChannelManager.channel_id).where(ChannelManager.user_id == user_id)
    found = union(voted, wrote, linked).subquery()
    rows = await session.execute(
        select(Chat.id, Chat.type)
        .where(Chat.id.in_(select(found.c[0])), Chat.type != "private")
        .order_by(Chat.id)
        .limit(limit)
    )
    return [(int(chat_id), str(kind)) for chat_id, kind in rows]
