"""Chats: recorded on first contact, deactivated when the bot can no longer write to them,
followed when a group becomes a supergroup, and those subscribed to the daily digest. Query
functions that never commit."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Announcement,
    Chat,
    Opinion,
    OutboxMessage,
    PollClose,
    PostedPoll,
    SentDigest,
    SummaryPost,
)


async def ensure_chat(
    session: AsyncSession,
    chat_id: int,
    chat_type: str,
    title: str | None,
    article_id: str,
    user_language: str | None = None,
) -> tuple[Chat, bool]:
    """The stored chat, created on first contact with the newest article as its current one,
    and whether it was inactive (the bot had been removed or blocked) until now."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(
            id=chat_id,
            type=chat_type,
            title=title,
            article_id=article_id,
            active=True,
            user_language=user_language,
            digest_enabled=False,
        )
        session.add(chat)
        await session.flush()
        return chat, False
    if title is not None and chat.title != title:
        chat.title = title
    if user_language is not None and chat.user_language != user_language:
        chat.user_language = user_language
    if chat.type != chat_type:
        chat.type = chat_type
    reactivated = not chat.active
    chat.active = True
    return chat, reactivated


async def get_chat(session: AsyncSession, chat_id: int) -> Chat | None:
    return await session.get(Chat, chat_id)


async def deactivate_chat(session: AsyncSession, chat_id: int) -> None:
    """The bot can no longer write to the chat (removed, or blocked by the person)."""
    await session.execute(update(Chat).where(Chat.id == chat_id).values(active=False))


async def subscribed_chats(session: AsyncSession) -> list[Chat]:
    """Active chats whose daily digest is on."""
    found = await session.scalars(
        select(Chat).where(Chat.digest_enabled.is_(True), Chat.active.is_(True))
    )
    return list(found)


FORMER_GROUP = 2**40  # subtracted from the message ids of a group that became a supergroup


async def migrate_chat(session: AsyncSession, old_id: int, new_id: int) -> Chat | None:
    """Move a group that became a supergroup to its new id, with its settings, polls and
    digests. Returns the new chat, or None when there was nothing to move (already done)."""
    old = await session.get(Chat, old_id)
    if old is None:
        return None
    new = await session.get(Chat, new_id)
    if new is None:
        new = Chat(id=new_id, type="supergroup", title=old.title, active=True)
        session.add(new)
    for attribute in (
        "language", "article_id", "follows_latest", "digest_enabled", "digest_time", "timezone"
    ):
        # (not digest_thread_id: a group that just became a supergroup has no topics yet)
        setattr(new, attribute, getattr(old, attribute))
    await session.flush()
    for model in (SentDigest, OutboxMessage, Announcement):
        await session.execute(update(model).where(model.chat_id == old_id).values(chat_id=new_id))
    # The supergroup numbers its messages from 1 again: the group's messages keep their order
    # but move below zero, where no message of the supergroup will ever meet them.
    await session.execute(
        update(PollClose)
        .where(PollClose.chat_id == old_id)
        .values(
            chat_id=new_id, results_message_id=PollClose.results_message_id - FORMER_GROUP
        )
    )
    for message in (PostedPoll, Opinion, SummaryPost):
        await session.execute(
            update(message)
            .where(message.chat_id == old_id)
            .values(chat_id=new_id, message_id=message.message_id - FORMER_GROUP)
        )
    await session.delete(old)
    await session.flush()
    return new


