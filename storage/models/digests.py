"""The daily digests sent, with the numbers they showed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


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
