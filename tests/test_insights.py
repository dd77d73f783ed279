"""Honest numbers: Wilson intervals, leads that are and are not significant, small samples."""

from __future__ import annotations

import pytest

from bot.insights.intervals import Reading, read_lead, wilson
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora

NBSP, NNBSP = "\u00a0", "\u202f"


def test_wilson_intervals_match_published_values() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775.
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    assert wilson(10, 10) == (pytest.approx(0.7225, abs=1e-4), pytest.approx(1.0))
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("voters", "votes", "reading", "first"),
    [
        (0, {}, Reading.NO_VOTES, None),
        (9, {0: 9}, Reading.SMALL_SAMPLE, 0),  # 9 out of 9, yet only nine people
        (30, {0: 20, 1: 10}, Reading.TOO_CLOSE, 0),  # 48.8-80.8 % against 19.2-51.2 %
        (30, {0: 24, 1: 6}, Reading.LEADER, 0),  # 62.7-90.5 % against 9.5-37.3 %
        (30, {0: 14, 1: 14, 2: 2}, Reading.TOO_CLOSE, 0),  # a tie: the article's order
        (12, {3: 12}, Reading.LEADER, 3),  # the runner-up has no vote at all
    ],
)
def test_a_leader_is_named_only_outside_the_margin_of_error(
    voters: int, votes: dict[int, int], reading: Reading, first: int | None
) -> None:
    lead = read_lead(voters, votes, 5)
    assert (lead.reading, lead.first) == (reading, first)


async def vote_many(
    agora: Agora, api: FakeBotAPI, poll: str, choices: list[int], base: int
) -> None:
    """Every answer at once; wait for the last one only (updates are handled in order)."""
    last = 0
    for offset, option in enumerate(choices):
        last = api.vote(poll, api.user(base + offset, f"V{base + offset}"), [option])
    await agora.settle(last)


async def test_results_say_when_a_lead_is_real_and_when_it_is_noise(
    agora: Agora, api: FakeBotAPI
) -> None:
    group = api.group(-100811, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    polls = [m["poll"]["id"] for m in await agora.command(group, admin, "/sondage") if "poll" in m]
    # Question 1: 24 against 6 out of 30, a real lead. Question 2: 20 against 10, within the
    # margin of error. Question 4: four voters.
    await vote_many(agora, api, polls[0], [0] * 24 + [1] * 6, 1000)
    await vote_many(agora, api, polls[1], [2] * 20 + [0] * 10, 1000)
    await vote_many(agora, api, polls[3], [1, 1, 1, 0], 1000)

    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/resultats"))
    assert (
        f"En tête{NBSP}: «{NBSP}Une crise de gouvernance inquiétante{NBSP}» avec "
        f"80,0{NBSP}%{NNBSP}; l’intervalle de confiance à 95{NBSP}% va de 62,7{NBSP}% à "
        f"90,5{NBSP}%."
    ) in text
    assert (
        f"Au coude-à-coude{NBSP}: «{NBSP}Injustifié{NBSP}» (66,7{NBSP}%) et «{NBSP}Justifié{NBSP}» "
        f"(33,3{NBSP}%){NNBSP}; l’écart qui les sépare reste dans la marge d’erreur."
    ) in text
    assert f"Seuls 4 votants{NBSP}: trop peu pour en tirer des conclusions." in text
    assert text.count("En tête") == 1

    await agora.command(group, admin, "/lang en")
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/results"))
    assert (
        "Leading: “A worrying governance crisis” with 80.0%; the 95% confidence interval runs "
        "from 62.7% to 90.5%."
    ) in text
    assert (
        "Neck and neck: “Unjustified” (66.7%) and “Justified” (33.3%); the gap between them is "
        "within the margin of error."
    ) in text
    assert "Only 4 voters: too few to read much into." in text
