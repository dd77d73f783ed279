"""Channels linked to Agora: who manages which, a channel found by its public name or id,
and the polls people answer in person for a channel, in private. Query functions that never
commit."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ballot, ChannelManager, Chat, PostedPoll, affected

CHANNEL = "channel"


def opinions_chat(chat: Chat) -> int:
    """Where the chat's opinions are written: a channel's, in its discussion group."""
    if chat.type == CHANNEL and chat.discussion_id is not None:
        return chat.discussion_id
    return chat.id


def digest_chat(chat: Chat) -> int:
    """Where the chat's digest goes: a channel's, to its discussion group if it chose so."""
    if chat.type == CHANNEL and chat.digest_in_discussion and chat.discussion_id is not None:
        return chat.discussion_id
    return chat.id


async def link_channel(session: AsyncSession, channel: Chat, user_id: int) -> bool:
    """Record that the person manages the channel through Agora; False if they already did."""
    if await session.get(ChannelManager, (channel.id, user_id)) is not None:
        return False
    session.add(ChannelManager(channel_id=channel.id, user_id=user_id))
    await session.flush()
    return True


async def unlink_channels(session: AsyncSession, user_id: int) -> int:
    """Forget which channels the person linked (/forgetme); how many links that was."""
    gone = await session.execute(delete(ChannelManager).where(ChannelManager.user_id == user_id))
    return affected(gone)


async def managed_channels(session: AsyncSession, user_id: int) -> list[Chat]:
    """The channels the person linked, by title."""
    rows = await session.scalars(
        select(Chat)
        .join(ChannelManager, ChannelManager.channel_id == Chat.id)
        .where(ChannelManager.user_id == user_id, Chat.type == CHANNEL)
        .order_by(func.lower(Chat.title), Chat.id)
    )
    return list(rows)


async def is_manager(session: AsyncSession, channel_id: int, user_id: int) -> bool:
    return await session.get(ChannelManager, (channel_id, user_id)) is not None


async def find_channel(session: AsyncSession, reference: str | int) -> Chat | None:
    """The linked channel that `reference` names ("@name" in lower case, or its id), active
    or not; None if Agora has none by that name."""
    query = select(Chat).where(Chat.type == CHANNEL)
    if isinstance(reference, int):
        query = query.where(Chat.id == reference)
    else:
        query = query.where(func.lower(Chat.username) == reference.removeprefix("@"))
    return (await session.scalars(query.limit(1))).first()


async def count_in_person(
    session: AsyncSession, chat_id: int, article_id: str, channel_id: int
) -> None:
    """The person's private polls of the article count for `channel_id` from now on (the
    channel whose link they followed last): a person counts for one channel only."""
    await session.execute(
        update(PostedPoll)
        .where(PostedPoll.chat_id == chat_id, PostedPoll.article_id == article_id)
        .values(via_chat_id=channel_id)
    )


async def identified_respondents(session: AsyncSession, article_id: str, channel_id: int) -> int:
    """How many people answered at least one of the article's questions in person for the
    channel."""
    count = await session.scalar(
        select(func.count(func.distinct(Ballot.user_id)))
        .join(PostedPoll, PostedPoll.poll_id == Ballot.poll_id)
        .where(PostedPoll.article_id == article_id, PostedPoll.via_chat_id == channel_id)
    )
    return int(count or 0)
