"""Ratings of opinions: recording one (with its opinion's counts), the next opinion a person
has to rate, what they rated, and forgetting them. Query functions that never commit."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from storage.models import Ballot, Chat, Opinion, PostedPoll, Rating

AGREE, DISAGREE, PASS = 1, -1, 0
COUNT_OF: dict[int, InstrumentedAttribute[int]] = {
    AGREE: Opinion.agreed, DISAGREE: Opinion.disagreed, PASS: Opinion.passed
}


def raters() -> ColumnElement[int]:
    """How many people rated an opinion, as a column."""
    return Opinion.agreed + Opinion.disagreed + Opinion.passed


async def rating_of(session: AsyncSession, opinion_id: int, user_id: int) -> int | None:
    return await session.scalar(
        select(Rating.value).where(Rating.opinion_id == opinion_id, Rating.user_id == user_id)
    )


async def add_rating(
    session: AsyncSession, opinion_id: int, user_id: int, value: int, at: datetime
) -> None:
    """Record a first rating and count it on its opinion (the caller checked there was none:
    a person's presses are handled one at a time, in their private chat's turn)."""
    session.add(Rating(opinion_id=opinion_id, user_id=user_id, value=value, rated_at=at))
    count = COUNT_OF[value]
    await session.execute(
        update(Opinion).where(Opinion.id == opinion_id).values({count: count + 1})
    )
    await session.flush()


def _to_rate(chat_id: int, article_id: str, user_id: int) -> tuple[ColumnElement[bool], ...]:
    """The chat's opinions on the article that the person did not write and has not rated."""
    rated = exists().where(Rating.opinion_id == Opinion.id, Rating.user_id == user_id)
    return (
        Opinion.chat_id == chat_id,
        Opinion.article_id == article_id,
        Opinion.user_id != user_id,
        ~rated,
    )


async def next_to_rate(
    session: AsyncSession, chat_id: int, article_id: str, user_id: int
) -> Opinion | None:
    """The opinion the person rates next: of those left to them, the one fewest people have
    rated, the newest among equals (so a new opinion, rated by nobody yet, comes first)."""
    return await session.scalar(
        select(Opinion)
        .where(*_to_rate(chat_id, article_id, user_id))
        .order_by(raters(), Opinion.id.desc())
        .limit(1)
    )


async def left_to_rate(session: AsyncSession, chat_id: int, article_id: str, user_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Opinion).where(*_to_rate(chat_id, article_id, user_id))
    )
    return int(found or 0)


async def rated_count(session: AsyncSession, chat_id: int, article_id: str, user_id: int) -> int:
    """How many of the chat's opinions on the article the person rated."""
    found = await session.scalar(
        select(func.count())
        .select_from(Rating)
        .join(Opinion, Opinion.id == Rating.opinion_id)
        .where(
            Rating.user_id == user_id,
            Opinion.chat_id == chat_id,
            Opinion.article_id == article_id,
        )
    )
    return int(found or 0)


async def last_group_of(session: AsyncSession, user_id: int) -> int | None:
    """The group where the person last voted (in a named poll) or wrote an opinion."""
    voted = (
        select(PostedPoll.chat_id.label("chat_id"), Ballot.answered_at.label("at"))
        .join(PostedPoll, PostedPoll.poll_id == Ballot.poll_id)
        .where(Ballot.user_id == user_id)
    )
    wrote = select(Opinion.chat_id.label("chat_id"), Opinion.created_at.label("at")).where(
        Opinion.user_id == user_id
    )
    seen = voted.union_all(wrote).subquery()
    return await session.scalar(
        select(seen.c.chat_id)
        .join(Chat, Chat.id == seen.c.chat_id)
        .where(Chat.type != "private", Chat.active)
        .order_by(seen.c.at.desc())
        .limit(1)
    )


async def rated_opinions(
    session: AsyncSession, chat_id: int, article_id: str, minimum: int
) -> list[tuple[str, int, int, int]]:
    """The text and counts (agreed, disagreed, passed) of the chat's opinions on the article
    that at least `minimum` people rated, oldest first."""
    rows = await session.execute(
        select(Opinion.text, Opinion.agreed, Opinion.disagreed, Opinion.passed)
        .where(Opinion.chat_id == chat_id, Opinion.article_id == article_id, raters() >= minimum)
        .order_by(Opinion.id)
    )
    return [(text, int(a), int(d), int(p)) for text, a, d, p in rows]


async def most_rated_in_article(
    session: AsyncSession,
    article_id: str,
    minimum: int,
    limit: int = 1000,
    chat_ids: Collection[int] | None = None,
) -> list[tuple[str, int, int, int]]:
    """The text and counts (agreed, disagreed, passed) of the article's opinions, in every
    chat or in `chat_ids`, that at least `minimum` people rated: the `limit` most rated,
    oldest first among equals (an index-free scan of the article's opinions: the report's
    few rows)."""
    query = select(Opinion.text, Opinion.agreed, Opinion.disagreed, Opinion.passed).where(
        Opinion.article_id == article_id, raters() >= minimum
    )
    if chat_ids is not None:
        query = query.where(Opinion.chat_id.in_(list(chat_ids)))
    rows = await session.execute(query.order_by(raters().desc(), Opinion.id).limit(limit))
    return [(text, int(a), int(d), int(p)) for text, a, d, p in rows]


@dataclass(frozen=True, slots=True)
class Forgotten:
    """Ratings deleted when a person is forgotten: theirs, and those of their opinions."""

    given: int
    received: int


async def forget_ratings(session: AsyncSession, user_id: int) -> Forgotten:
    """Delete the person's ratings (their opinions' counts follow) and the ratings of their
    opinions (which go with the opinions, deleted after this)."""
    given = list(
        await session.execute(
            select(Rating.opinion_id, Rating.value).where(Rating.user_id == user_id)
        )
    )
    for value, count in COUNT_OF.items():
        ids = [opinion for opinion, rated in given if rated == value]
        for start in range(0, len(ids), 500):
            await session.execute(
                update(Opinion)
                .where(Opinion.id.in_(ids[start : start + 500]))
                .values({count: count - 1})
            )
    await session.execute(delete(Rating).where(Rating.user_id == user_id))
    received = await session.scalar(
        select(func.count())
        .select_from(Rating)
        .join(Opinion, Opinion.id == Rating.opinion_id)
        .where(Opinion.user_id == user_id)
    )
    await session.execute(
        delete(Rating).where(
            Rating.opinion_id.in_(select(Opinion.id).where(Opinion.user_id == user_id))
        )
    )
    return Forgotten(len(given), int(received or 0))
