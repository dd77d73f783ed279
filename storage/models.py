"""The database schema as typed SQLAlchemy models."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> Table:
    """A model's Table, for bulk statements (SQLAlchemy types `__table__` as a FromClause)."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


def affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE changed (its result is a CursorResult)."""
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


class Chat(Base):
    """A private chat or group that has talked to the bot, with its choices."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(8))
    article_id: Mapped[str | None] = mapped_column(String(64))
    # True: the chat discusses the latest article (article_id is ignored); False: the one it
    # chose with /article <id>.
    follows_latest: Mapped[bool] = mapped_column(default=True, server_default=true())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The Telegram language of the person in a private chat, for messages sent unprompted.
    user_language: Mapped[str | None] = mapped_column(String(8))
    digest_enabled: Mapped[bool] = mapped_column(default=False)
    digest_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM"; None: the default
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name; None: the default
    # The forum topic the digest was turned on in (None: the chat itself, or General).
    digest_thread_id: Mapped[int | None] = mapped_column(BigInteger)


class PostedPoll(Base):
    """A native Telegram poll the bot posted for one question of an article in one chat."""

    __tablename__ = "posted_polls"

    poll_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", onupdate="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(BigInteger)
    article_id: Mapped[str] = mapped_column(String(64), index=True)
    question_key: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    anonymous: Mapped[bool]
    multiple: Mapped[bool]
    # The options' persistent ids in the order the bot sent them: position i is option i.
    option_ids: Mapped[list[str]] = mapped_column(JSON)
    voter_count: Mapped[int] = mapped_column(Integer, default=0)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PollTally(Base):
    """How many voters chose one option of one posted poll (kept in step with ballots)."""

    __tablename__ = "poll_tallies"

    poll_id: Mapped[str] = mapped_column(
        ForeignKey("posted_polls.poll_id", ondelete="CASCADE"), primary_key=True
    )
    option_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    votes: Mapped[int] = mapped_column(Integer, default=0)


def option_bits(options: Iterable[int]) -> int:
    """Chosen option indexes as bits: [0, 3] is 0b1001."""
    bits = 0
    for option in options:
        bits |= 1 << option
    return bits


def options_of(bits: int) -> list[int]:
    """The option indexes whose bits are set, in order: 0b1001 is [0, 3]."""
    return [option for option in range(bits.bit_length()) if bits >> option & 1]


class Ballot(Base):
    """One user's current answer to one non-anonymous poll."""

    __tablename__ = "ballots"
    # Cross-tabs join a poll's answers with another's by user: read from this index alone.
    __table_args__ = (Index("ix_ballots_answers", "poll_id", "user_id", "option_bits"),)

    poll_id: Mapped[str] = mapped_column(
        ForeignKey("posted_polls.poll_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The chosen option indexes, e.g. [0, 3].
    options: Mapped[list[int]] = mapped_column(JSON)
    # The same options as bits (option_bits(options)), which the database compares and adds
    # up where it would otherwise decode JSON. Written with `options` (a ballot is replaced,
    # never updated); no default, so that a writer that forgets it fails.
    option_bits: Mapped[int] = mapped_column(BigInteger)
    voter_name: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BotState(Base):
    """Small durable facts about the bot itself, such as the last update it committed."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class SentDigest(Base):
    """A digest the bot sent (or is sending) to a chat, with the numbers it showed.

    The row is committed before the first message goes out: a crash mid-way never leads to a
    second copy, and the unique (chat, daily_date) pair makes the daily digest once a day.
    """

    __tablename__ = "sent_digests"
    __table_args__ = (UniqueConstraint("chat_id", "daily_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"), index=True
    )
    local_date: Mapped[date] = mapped_column(Date)
    # Set for the scheduled digest only (a digest asked with "/digest now" leaves it empty).
    daily_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # sending, sent, failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    numbers: Mapped[dict[str, Any]] = mapped_column(JSON)


INTEGER_MAX = 2**31 - 1  # the largest INTEGER (Opinion.id) PostgreSQL holds


class Opinion(Base):
    """What someone wrote about the article or one of its questions, in one chat."""

    __tablename__ = "opinions"
    __table_args__ = (
        UniqueConstraint("chat_id", "message_id"),
        # The report's newest opinions of an article, in every chat (storage.report).
        Index("ix_opinions_article_created", "article_id", "created_at"),
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


class QuestionTotal(Base):
    """Voters of one question of an article, all chats together (kept in step with the polls'
    counts, so the all-chats results read a few rows whatever the number of chats)."""

    __tablename__ = "question_totals"

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    voters: Mapped[int] = mapped_column(Integer, default=0)


class OptionTotal(Base):
    """Votes for one option of one question of an article, all chats together."""

    __tablename__ = "option_totals"

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    option_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    votes: Mapped[int] = mapped_column(Integer, default=0)


class HandledUpdate(Base):
    """An update whose effects are committed, kept until Telegram is told to forget it, so
    that a redelivery after a crash is recognised and skipped."""

    __tablename__ = "handled_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # When; rows from before this column have none. Webhook mode forgets rows by age.
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class InboxUpdate(Base):
    """An update as Telegram sent it, stored before it is acknowledged and handled from here:
    pending until its effects commit (the row is then deleted in the same transaction), or
    set aside with the reason it could not be handled."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_chat_update", "chat_id", "update_id"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The chat whose turn handles it; none for poll answers and other chatless updates.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(String)  # the update's JSON, as received
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Failed tries so far; not tried again before not_before (a database error, a vote for a
    # poll not yet recorded).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why it is no longer tried (unreadable, or its handler failed); purged after a week.
    set_aside: Mapped[str | None] = mapped_column(String(200))


class OutboxMessage(Base):
    """A Telegram call decided by a committed transaction: pending until the sender makes it,
    then sent (or dropped, with the reason logged). Sent rows are purged after a few days."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    # Lower goes first across chats (bot.engine.outbox.Priority).
    priority: Mapped[int] = mapped_column(SmallInteger)
    method: Mapped[str] = mapped_column(String(32))  # the call to make (bot.engine.outbox.Method)
    # The method's parameters but chat_id (the column, so a migrated chat is re-addressed).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)  # a document's content
    # What to record once sent (a poll's ids, a summary's message id, a digest's completion),
    # as bot.engine.effects writes it; and "messages", when the call sent several (an album).
    effect: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending, sent, dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Taken by a sender until then (FOR UPDATE SKIP LOCKED on PostgreSQL decides who takes it).
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
