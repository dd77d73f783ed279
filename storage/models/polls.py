"""Polls and answers: the polls posted, their tallies, the named ballots, and the all-chats
totals."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PostedPoll(Base):
    """A native Telegram poll the bot posted for one question of an article in one chat."""

    __tablename__ = "posted_polls"
    __table_args__ = (
        # Each chat's part in an article, read from the index alone (the report's table).
        Index(
            "ix_posted_polls_report", "article_id", "superseded", "chat_id", "voter_count",
            "posted_at",
        ),
    )

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
    # When the poll was closed (/close): its answers no longer count from then on.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Its chat's round of the article's polls (a second round asks the questions again);
    # superseded once a later round opens: its results are then the earlier round's, left
    # out of every figure of today (the chat's and all chats').
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    superseded: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A poll posted in a private chat through a channel's "answer in person" link: the
    # channel whose identified respondents its answers count for (None: none).
    via_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class PollTally(Base):
    """How many voters chose one option of one posted poll (kept in step with ballots)."""

    __tablename__ = "poll_tallies"

    poll_id: Mapped[str] = mapped_column(
        ForeignKey("posted_polls.poll_id", ondelete="CASCADE"), primary_key=True
    )
    option_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    votes: Mapped[int] = mapped_column(Integer, default=0)


def polls_of(chat_id: int) -> ColumnElement[bool]:
    """The polls of a chat: those posted in it and, for a channel, those answered in person
    for it in private chats (its identified respondents; a channel's own polls are
    anonymous: they hold no one's answers)."""
    return or_(PostedPoll.chat_id == chat_id, PostedPoll.via_chat_id == chat_id)


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
    __table_args__ = (
        Index("ix_ballots_answers", "poll_id", "user_id", "option_bits"),
        Index("ix_ballots_user", "user_id", "answered_at"),  # a person's answers (/me)
    )

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
    # Telegram's update that gave this answer (None: from before it was kept): an older
    # update, delivered late (webhooks in parallel, another instance), changes nothing.
    update_id: Mapped[int | None] = mapped_column(BigInteger)


class Retraction(Base):
    """A voter's latest answer to a poll was a retraction (no option): its update, so that an
    older answer delivered after it does not bring the vote back."""

    __tablename__ = "retractions"

    poll_id: Mapped[str] = mapped_column(
        ForeignKey("posted_polls.poll_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger)


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


class ResultSnapshot(Base):
    """One question's results in all chats at a moment (as the report shows them: current
    rounds, hidden results left out), written every quarter of an hour when they changed (an
    hour keeps its last): the report's participation per day and each leader's trend come
    from these few rows."""

    __tablename__ = "result_snapshots"
    __table_args__ = (Index("ix_result_snapshots_article_taken", "article_id", "taken_at"),)

    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    voters: Mapped[int] = mapped_column(Integer)
    votes: Mapped[list[int]] = mapped_column(JSON)  # per option, in the article's order
