"""What /me reads of one person: the chats and articles they answered, their answers, and the
ratings of a chat's opinions by the people who rated them (to weigh them by group). Query
functions that never commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.closes import CURRENT_ROUND
from storage.models import Ballot, Opinion, PostedPoll, Rating


async def answered_in(session: AsyncSession, user_id: int, limit: int) -> list[tuple[int, str]]:
    """(chat, article) of the current-round polls the person answered, the most recently
    answered first, at most `limit`."""
    latest = func.max(Ballot.answered_at)
    rows = await session.execute(
        select(PostedPoll.chat_id, PostedPoll.article_id)
        .join(Ballot, Ballot.poll_id == PostedPoll.poll_id)
        .where(Ballot.user_id == user_id, CURRENT_ROUND)
        .group_by(PostedPoll.chat_id, PostedPoll.article_id)
        .order_by(latest.desc())
        .limit(limit)
    )
    return [(chat_id, article_id) for chat_id, article_id in rows]


async def own_answers(
    session: AsyncSession, user_id: int, chat_id: int, article_id: str
) -> dict[str, list[int]]:
    """The person's answers to the chat's current-round polls of the article, by question
    key (the latest, where a question was asked twice)."""
    rows = await session.execute(
        select(PostedPoll.question_key, Ballot.options)
        .join(Ballot, Ballot.poll_id == PostedPoll.poll_id)
        .where(
            Ballot.user_id == user_id,
            PostedPoll.chat_id == chat_id,
            PostedPoll.article_id == article_id,
            CURRENT_ROUND,
        )
        .order_by(Ballot.answered_at)
    )
    return {key: list(options) for key, options in rows if options}


def raters_of(chat_id: int, article_id: str) -> Select[Any]:
    """The ids of the people who rated the chat's opinions on the article."""
    return (
        select(Rating.user_id)
        .join(Opinion, Opinion.id == Rating.opinion_id)
        .where(Opinion.chat_id == chat_id, Opinion.article_id == article_id)
    )


async def others_ratings(
    session: AsyncSession, chat_id: int, article_id: str, user_id: int
) -> list[tuple[int, int, int]]:
    """(opinion id, rater, value) of every rating of the chat's opinions on the article that
    the person did not write (moderation deletes an opinion and its ratings)."""
    rows = await session.execute(
        select(Rating.opinion_id, Rating.user_id, Rating.value)
        .join(Opinion, Opinion.id == Rating.opinion_id)
        .where(
            Opinion.chat_id == chat_id,
            Opinion.article_id == article_id,
            Opinion.user_id != user_id,
        )
    )
    return [(int(o), int(u), int(v)) for o, u, v in rows]


async def opinion_text(session: AsyncSession, opinion_id: int) -> str | None:
    return await session.scalar(select(Opinion.text).where(Opinion.id == opinion_id))
