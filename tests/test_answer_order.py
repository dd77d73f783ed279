"""Answers count in Telegram's order, whatever order they are handled in: webhooks arrive in
parallel, two instances share them, a failed batch is tried again later. Applied here out of
order, as those cases do, through the same code the handlers use (storage.ballots)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ballots import Answer, AnswerBatch
from storage.models import Retraction
from tests.support.botapi import FakeBotAPI
from tests.support.camps import group_with_polls
from tests.support.harness import Agora, totals_match_tallies

VOTER = 777


async def apply(agora: Agora, poll: dict[str, Any], update_id: int, *options: int) -> None:
    """One answer of VOTER, from update `update_id`, in a unit of its own."""
    persistent = tuple(poll["options"][o]["persistent_id"] for o in options)
    batch = AnswerBatch()
    batch.add(Answer(poll["id"], VOTER, persistent, options, datetime.now(UTC), "V", update_id))
    async with AsyncSession(agora.engine) as session, session.begin():
        await batch.apply(session)


async def retractions(agora: Agora) -> int:
    async with AsyncSession(agora.engine) as session:
        return int(await session.scalar(select(func.count()).select_from(Retraction)) or 0)


async def test_an_older_answer_handled_later_changes_nothing(
    agora: Agora, api: FakeBotAPI
) -> None:
    _group, _admin, polls = await group_with_polls(agora, api, -100960)
    first, second, third = polls[0], polls[1], polls[2]

    # A change of answer handled before the answer it changed.
    await apply(agora, first, 105, 2)
    await apply(agora, first, 100, 1)
    assert await agora.ballots(first["id"]) == {VOTER: [2]}
    assert (await agora.tallies(first["id"]))[1] == 0

    # A retraction handled before the vote it withdrew: the vote does not come back.
    await apply(agora, second, 110)
    await apply(agora, second, 108, 3)
    assert await agora.ballots(second["id"]) == {}
    assert sum((await agora.tallies(second["id"])).values()) == 0
    assert await retractions(agora) == 1
    # A newer vote after the retraction counts, and the retraction's trace goes.
    await apply(agora, second, 115, 0)
    assert await agora.ballots(second["id"]) == {VOTER: [0]}
    assert await retractions(agora) == 0

    # The same answer again from a newer update: an answer between them, late, is older.
    await apply(agora, third, 120, 1)
    await apply(agora, third, 130, 1)
    await apply(agora, third, 125, 3)
    assert await agora.ballots(third["id"]) == {VOTER: [1]}
    await totals_match_tallies(agora.engine)

    # /oublier withdraws them all and leaves no trace of the voter.
    await apply(agora, first, 140)
    assert await retractions(agora) == 1
    voter = api.user(VOTER, "V")
    private = api.private_chat(voter)
    [question] = await agora.command(private, voter, "/oublier")
    yes = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await agora.settle(api.callback_query(private, voter, question["message_id"], yes))
    assert [await agora.ballots(p["id"]) for p in polls[:3]] == [{}, {}, {}]
    assert await retractions(agora) == 0
    await totals_match_tallies(agora.engine)
