"""Opinions and the records they hang on: query functions that never commit."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.listing import LISTED, ListedOpinion
from storage.models import Ballot, Opinion, PostedPoll, SummaryPost, affected

BATCH = 500  # rows fetched at a time by the streamed queries


async def record_summary_post(
    session: AsyncSession, chat_id: int, message_id: int, article_id: str
) -> None:
    session.add(SummaryPost(chat_id=chat_id, message_id=message_id, article_id=article_id))
    await session.flush()


@dataclass(frozen=True, slots=True)
class Target:
    """What a reply to one of the bot's messages is about."""

    article_id: str
    question_key: str | None


async def reply_target(session: AsyncSession, chat_id: int, message_id: int) -> Target | None:
    """The article or question behind a bot message (a poll or a summary), if any."""
    poll = await session.scalar(
        select(PostedPoll).where(PostedPoll.chat_id == chat_id, PostedPoll.message_id == message_id)
    )
    if poll is not None:
        return Target(poll.article_id, poll.question_key)
    summary = await session.get(SummaryPost, (chat_id, message_id))
    if summary is not None:
        return Target(summary.article_id, None)
    return None


async def opinion_by_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> Opinion | None:
    return await session.scalar(
        select(Opinion).where(Opinion.chat_id == chat_id, Opinion.message_id == message_id)
    )


async def opinion_by_id(session: AsyncSession, chat_id: int, opinion_id: int) -> Opinion | None:
    return await session.scalar(
        select(Opinion).where(Opinion.chat_id == chat_id, Opinion.id == opinion_id)
    )


async def recent_opinions(
    session: AsyncSession, chat_id: int, user_id: int, since: datetime
) -> list[datetime]:
    """When the user posted opinions in the chat since `since`, oldest first."""
    found = await session.scalars(
        select(Opinion.created_at)
        .where(Opinion.chat_id == chat_id, Opinion.user_id == user_id, Opinion.created_at > since)
        .order_by(Opinion.created_at)
    )
    return list(found)


async def add_opinion(session: AsyncSession, opinion: Opinion) -> Opinion:
    """Store an opinion; one already stored for the same message is kept as it is."""
    existing = await opinion_by_message(session, opinion.chat_id, opinion.message_id)
    if existing is not None:
        return existing
    session.add(opinion)
    await session.flush()
    return opinion


async def opinions_after(
    session: AsyncSession, chat_id: int, article_id: str, after_id: int | None, limit: int
) -> tuple[int, list[Opinion]]:
    """How many opinions the chat posted on the article after opinion `after_id` (all when
    None), and the newest of them. Ids, not dates: Telegram's clock and ours may differ."""
    where = [Opinion.chat_id == chat_id, Opinion.article_id == article_id]
    if after_id is not None:
        where.append(Opinion.id > after_id)
    count = await session.scalar(select(func.count()).select_from(Opinion).where(*where)) or 0
    newest = await session.scalars(
        select(Opinion).where(*where).order_by(Opinion.created_at.desc(), Opinion.id.desc())
        .limit(limit)
    )
    return int(count), list(newest)


async def chat_opinions(
    session: AsyncSession, chat_id: int, article_id: str
) -> AsyncGenerator[ListedOpinion, None]:
    """The chat's opinions on the article, oldest first. Streamed, a batch at a time (close
    the iterator if you stop early: `contextlib.aclosing`)."""
    async for opinion in _stream(session, chat_id, article_id, (Opinion.created_at, Opinion.id)):
        yield opinion


async def _stream(
    session: AsyncSession, chat_id: int, article_id: str, order: tuple[Any, ...]
) -> AsyncGenerator[ListedOpinion, None]:
    """The chat's opinions on the article in `order`, a batch at a time."""
    result = await session.stream(
        select(*LISTED)
        .where(Opinion.chat_id == chat_id, Opinion.article_id == article_id)
        .order_by(*order)
        .execution_options(yield_per=BATCH)
    )
    try:
        async for rows in result.partitions():
            for row in rows:
                yield ListedOpinion(*row)
    finally:
        await result.close()


async def count_opinions(session: AsyncSession, chat_id: int, article_id: str) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(Opinion)
        .where(Opinion.chat_id == chat_id, Opinion.article_id == article_id)
    )
    return int(found or 0)


class NamedAnswer(NamedTuple):
    question_key: str
    options: list[int]
    voter_name: str | None
    answered_at: datetime
    round: int


def _of_chat_article(
    chat_id: int, article_id: str, question_keys: Sequence[str]
) -> tuple[ColumnElement[bool], ...]:
    return (
        PostedPoll.chat_id == chat_id,
        PostedPoll.article_id == article_id,
        PostedPoll.question_key.in_(question_keys),
    )


async def chat_ballots(
    session: AsyncSession, chat_id: int, article_id: str, question_keys: Sequence[str]
) -> AsyncGenerator[NamedAnswer, None]:
    """Every named answer in the chat's polls on the article's questions (anonymous polls
    have none), poll by poll. Streamed, a batch at a time."""
    result = await session.stream(
        select(
            PostedPoll.question_key,
            Ballot.options,
            Ballot.voter_name,
            Ballot.answered_at,
            PostedPoll.round,
        )
        .join(Ballot, Ballot.poll_id == PostedPoll.poll_id)
        .where(*_of_chat_article(chat_id, article_id, question_keys))
        .order_by(PostedPoll.message_id, Ballot.answered_at)
        .execution_options(yield_per=BATCH)
    )
    try:
        async for rows in result.partitions():
            for key, options, name, answered_at, round_number in rows:
                yield NamedAnswer(key, list(options), name, answered_at, round_number)
    finally:
        await result.close()


async def count_ballots(
    session: AsyncSession, chat_id: int, article_id: str, question_keys: Sequence[str]
) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(PostedPoll)
        .join(Ballot, Ballot.poll_id == PostedPoll.poll_id)
        .where(*_of_chat_article(chat_id, article_id, question_keys))
    )
    return int(found or 0)


async def user_ballots(session: AsyncSession, user_id: int) -> list[str]:
    """The polls a user has a stored answer in."""
    found = await session.scalars(select(Ballot.poll_id).where(Ballot.user_id == user_id))
    return list(found)


async def delete_user_opinions(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(delete(Opinion).where(Opinion.user_id == user_id))
    return affected(result)
