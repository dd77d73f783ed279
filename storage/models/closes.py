"""How an article's polls end in a chat: a close, scheduled or done, and hidden results."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class PollClose(Base):
    """How an article's polls end in one chat: a close scheduled (and its reminder), the close
    itself and its final results message; and whether their results stay hidden until then.
    Of the chat's current round: a new round starts them afresh."""

    __tablename__ = "poll_closes"
    __table_args__ = (Index("ix_poll_closes_due", "closed_at", "due_at"),)

    chat_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    article_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # the current
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # scheduled
    # When the reminder goes (an hour before a close more than two hours away); None once
    # sent, or when there is none.
    remind_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The final results' first message, once sent (a second /close replies to it).
    results_message_id: Mapped[int | None] = mapped_column(BigInteger)
