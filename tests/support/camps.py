"""Planted voters for the opinion-group tests: a group with its polls posted, two camps that
answer them each its own way, and ratings recorded as the rating loop records them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Opinion, Rating
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora

CAMP_A = {0: [0], 1: [0], 2: [0], 3: [0]}  # answers by poll index
CAMP_B = {0: [1], 1: [2], 2: [1], 3: [1]}


async def vote_as(
    agora: Agora, polls: list[dict[str, Any]], user: dict[str, Any], answers: dict[int, list[int]]
) -> None:
    for index, options in answers.items():
        await agora.vote(polls[index]["id"], user, options)


async def rate(agora: Agora, opinion_text: str, raters: list[dict[str, Any]], value: int) -> None:
    """Ratings as the rating loop records them (tests/test_rating.py tests the loop)."""
    column = {1: Opinion.agreed, -1: Opinion.disagreed, 0: Opinion.passed}[value]
    async with AsyncSession(agora.engine) as session, session.begin():
        opinion = await session.scalar(select(Opinion.id).where(Opinion.text == opinion_text))
        assert opinion is not None
        for rater in raters:
            session.add(Rating(
                opinion_id=opinion, user_id=rater["id"], value=value, rated_at=datetime.now(UTC)
            ))
        await session.execute(
            update(Opinion).where(Opinion.id == opinion).values({column: column + len(raters)})
        )


async def group_with_polls(
    agora: Agora, api: FakeBotAPI, chat_id: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A group ("Débat"), its admin, and the polls the admin posted."""
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    sent = await agora.command(group, admin, "/sondage")
    return group, admin, [m["poll"] for m in sent if "poll" in m]


async def two_camps(
    agora: Agora, api: FakeBotAPI, polls: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fifteen voters answering as CAMP_A, ten as CAMP_B."""
    camp_a = [api.user(1000 + n, f"Alpha{n}") for n in range(15)]
    camp_b = [api.user(2000 + n, f"Beta{n}") for n in range(10)]
    for person in camp_a:
        await vote_as(agora, polls, person, CAMP_A)
    for person in camp_b:
        await vote_as(agora, polls, person, CAMP_B)
    return camp_a, camp_b
