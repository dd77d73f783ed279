"""Articles the database has seen, and the announcements of new ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class KnownArticle(Base):
    """An article the bot has loaded at least once: one that is not here yet is new, and is
    announced to the chats that follow the latest article."""

    __tablename__ = "known_articles"

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Announcement(Base):
    """A new article announced (or to be announced) to one following chat: the primary key
    makes it once per chat and article, whatever restarts happen."""

    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_status_due", "status", "due_at"),)

    chat_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Not before 08:00 in the chat's time zone.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # waiting (until due_at), queued (its message is in the outbox), skipped (no longer
    # relevant when due: the chat chose an article, left, or a newer one came).
    status: Mapped[str] = mapped_column(String(8), default="waiting")
