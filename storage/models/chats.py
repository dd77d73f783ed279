"""Chats: a private chat, group or channel that the bot knows, with its choices; and who
manages each channel through Agora."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    String,
    false,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class Chat(Base):
    """A private chat or group that has talked to the bot, or a channel linked to it, with its
    choices."""

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
    # A channel's public name, without "@" (None: private, or not a channel), so that anyone
    # may ask for its results by name (/results @name) without asking Telegram.
    username: Mapped[str | None] = mapped_column(String(32), index=True)
    # A channel's discussion group, as Telegram last said (getChat's linked_chat_id): the
    # replies there to the channel's posts are opinions, shown in the channel's digest.
    discussion_id: Mapped[int | None] = mapped_column(BigInteger)
    # A channel that publishes each new article as it appears (/publish @name auto), at the
    # announcements' times of day; False: only when an administrator asks.
    publish_auto: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A channel's digest goes to its discussion group instead (/digest @name group).
    digest_in_discussion: Mapped[bool] = mapped_column(default=False, server_default=false())


class ChannelManager(Base):
    """A channel administrator who linked the channel (/channel @name) in a private chat:
    the channels /channel lists for them. Publishing checks their rights with Telegram
    again; this row only says where to look."""

    __tablename__ = "channel_managers"

    channel_id: Mapped[int] = mapped_column(
        BigInteger,
        ForeignKey("chats.id", onupdate="CASCADE", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
