"""Closing the polls: /close now and its final results, a close scheduled ahead, its
reminder, and the edge cases (a poll deleted by hand, a supergroup, anonymous polls)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from storage.models import PollClose
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, start_agora, totals_match_tallies

NBSP = "\u00a0"


def late_answer(api: FakeBotAPI, poll: dict[str, Any], user: dict[str, Any], option: int) -> int:
    """An answer Telegram took just before the poll closed, delivered after the close."""
    return api.push_update(
        {
            "poll_answer": {
                "poll_id": poll["id"],
                "user": user,
                "option_ids": [option],
                "option_persistent_ids": [poll["options"][option]["persistent_id"]],
            }
        }
    )


async def group_with_votes(
    agora: Agora, api: FakeBotAPI, chat_id: int, *, text: str = "/sondage"
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A group whose admin posted the polls, with three votes on the first one."""
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    sent = await agora.command(group, admin, text)
    polls = [m["poll"] for m in sent if "poll" in m]
    for n, option in enumerate([0, 0, 1]):
        await agora.vote(polls[0]["id"], api.user(500 + n, f"V{n}"), [option])
    return group, admin, polls


async def close_of(agora: Agora, chat_id: int, article: str) -> PollClose | None:
    async with AsyncSession(agora.engine) as session:
        return await session.get(PollClose, (chat_id, article))


async def test_close_stops_every_poll_and_posts_the_final_results(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_votes(agora, api, -100700)
    sent = await agora.command(group, admin, "/cloturer")
    stops = [int(call["message_id"]) for call in api.calls_of("stopPoll")]
    assert stops == [m["message_id"] for m in api.sent(group["id"], "sendPoll")]
    assert all(api.polls[p["id"]]["is_closed"] for p in polls)  # Telegram's side
    assert all(poll.closed_at is not None for poll in await agora.polls(group["id"]))
    [final, chart] = sent
    assert final["text"].startswith(
        "🏁 Résultats définitifs — Crise à la tête d'OpenAI"
    )
    assert (
        f"Sondages clos le jeudi 26 novembre 2026{NBSP}: ces chiffres sont définitifs."
        in final["text"]
    )
    assert f"Ce groupe{NBSP}: 3 votants" in final["text"]  # the question block of /results
    assert f"66,7{NBSP}% (2)" in final["text"]
    assert chart["caption"] == "Résultats définitifs du jeudi 26 novembre 2026"
    with pytest.raises(ValueError, match="closed"):
        api.vote(polls[0]["id"], api.user(600, "Late"), [2])  # Telegram refuses it
    # An answer taken before the stop but delivered after it changes nothing.
    await agora.settle(late_answer(api, polls[0], api.user(601, "Slow"), 2))
    assert await agora.tallies(polls[0]["id"]) == {0: 2, 1: 1, 2: 0, 3: 0, 4: 0}
    await totals_match_tallies(agora.engine)

    [again] = await agora.command(group, admin, "/cloturer")
    assert again["text"] == f"Les sondages sont déjà clos{NBSP}: voici les résultats définitifs."
    assert again["reply_to_message"]["message_id"] == final["message_id"]
    assert len(api.calls_of("stopPoll")) == 6  # no second stop
    [results] = await agora.command(group, api.user(11, "Max"), "/resultats")
    assert "ces chiffres sont définitifs" in results["text"]
    assert f"66,7{NBSP}% (2)" in results["text"]
