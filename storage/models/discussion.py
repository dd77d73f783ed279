"""The discussion: opinions, and the summaries posted (replies to them are opinions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base

INTEGER_MAX = 2**31 - 1  # the largest INTEGER (Opinion.id) PostgreSQL holds


class Opinion(Base):
    """What someone wrote about the article or one of its questions, in one chat."""

    __tablename__ = "opinions"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        # The report's newest opinions of an article, in every chat (storage.report).
        Index("ix_opinions_article_created", "article_id", "created_at"),
        # Each chat's opinions of an article, counted from the index alone (the report).
        Index("ix_opinions_article_chat", "article_id", "chat_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(BigInteger)  # the author's message
    article_id: Mapped[str] = mapped_column(String(64))
    question_key: Mapped[str | None] = mapped_column(String(32))  # None: the whole article
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    author: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(String(4096))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How its raters rated it (kept in step with opinion_ratings, as tallies with ballots).
    agreed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disagreed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    passed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Rating(Base):
    """One person's rating of someone else's opinion: agree (1), disagree (-1) or pass (0).
    Never shown person by person; gone with its opinion."""

    __tablename__ = "opinion_ratings"
    # What a person rated, read by person (the next opinion to rate, /forgetme).
    __table_args__ = (Index("ix_opinion_ratings_user", "user_id", "opinion_id"),)

    opinion_id: Mapped[int] = mapped_column(
        ForeignKey("opinions.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SummaryPost(Base):
    """A summary message the bot sent, so that replies to it become opinions on the article."""

    __tablename__ = "summary_posts"

    chat_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    article_id: Mapped[str] = mapped_column(String(64))
