"""New articles and their announcements to the chats that follow the latest article."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announcement, Chat, KnownArticle

WAITING, QUEUED, SKIPPED = "waiting", "queued", "skipped"


async def known_articles(session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(KnownArticle.article_id)))


async def record_known(session: AsyncSession, article_ids: Iterable[str], now: datetime) -> None:
    rows = [{"article_id": article_id, "seen_at": now} for article_id in article_ids]
    if rows:
        await session.execute(insert(KnownArticle), rows)


async def following_chats(session: AsyncSession) -> list[tuple[int, str | None]]:
    """(id, time zone) of every chat the bot can write to that follows the latest article:
    groups and private chats (told of it), channels that publish it as it appears."""
    rows = await session.execute(
        select(Chat.id, Chat.timezone).where(
            Chat.active.is_(True),
            Chat.follows_latest.is_(True),
            or_(Chat.type != "channel", Chat.publish_auto.is_(True)),
        )
    )
    return [(chat_id, zone) for chat_id, zone in rows]


async def plan_announcements(
    session: AsyncSession, article_id: str, due: Sequence[tuple[int, datetime]]
) -> None:
    """One waiting announcement of `article_id` per (chat, due time)."""
    rows = [
        {"chat_id": chat_id, "article_id": article_id, "due_at": at, "status": WAITING}
        for chat_id, at in due
    ]
    if rows:
        await session.execute(insert(Announcement), rows)


async def due_announcements(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[Announcement, Chat]]:
    """Waiting announcements whose time has come, with their chats, the earliest first."""
    rows = await session.execute(
        select(Announcement, Chat)
        .join(Chat, Chat.id == Announcement.chat_id)
        .where(Announcement.status == WAITING, Announcement.due_at <= now)
        .order_by(Announcement.due_at, Announcement.chat_id)
        .limit(limit)
    )
    return [(announcement, chat) for announcement, chat in rows.all()]
