"""The engine's rows: the inbox, the outbox, handled updates and state values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class BotState(Base):
    """Small durable facts about the bot itself, such as the last update it committed."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


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
