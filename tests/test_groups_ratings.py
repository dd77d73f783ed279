"""Opinion groups on answers and ratings together: a rating of one of the most rated opinions
counts like an answer to a question; /groups names the opinions every group agrees with and
those that divide them."""

from __future__ import annotations

from tests.support.botapi import FakeBotAPI
from tests.support.camps import CAMP_A, group_with_polls, rate, two_camps, vote_as
from tests.support.harness import Agora

NBSP = "\u00a0"


async def test_groups_name_what_brings_them_together_and_what_divides_them(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100970)
    camp_a, camp_b = await two_camps(agora, api, polls)
    author = api.user(3000, "Auteur")
    await agora.command(group, author, "/avis Il faut informer le public")
    await agora.command(group, author, "/avis Le conseil a eu raison")
    await rate(agora, "Il faut informer le public", camp_a[:12] + camp_b[:8], 1)
    await rate(agora, "Le conseil a eu raison", camp_a[:12], 1)
    await rate(agora, "Le conseil a eu raison", camp_b[:8], -1)
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/groupes"))
    assert "Leurs évaluations de 2 avis, les plus évalués, comptent aussi" in text
    assert (
        f"Ce qui rapproche les groupes{NBSP}:\n• «{NBSP}Il faut informer le public{NBSP}»{NBSP}: "
        f"approuvé par 100,0{NBSP}% à 100,0{NBSP}% de chaque groupe"
    ) in text
    assert (
        f"Les avis qui les divisent le plus{NBSP}:\n• «{NBSP}Le conseil a eu raison{NBSP}»{NBSP}: "
        f"approuvé par 100,0{NBSP}% dans le groupe 1, 0,0{NBSP}% dans le groupe 2"
    ) in text


async def test_ratings_alone_can_set_groups_apart(agora: Agora, api: FakeBotAPI) -> None:
    """24 voters answer the polls alike; half agree with three opinions that the other half
    reject: two groups, told apart by their ratings."""
    group, admin, polls = await group_with_polls(agora, api, -100971)
    people = [api.user(4000 + n, f"P{n}") for n in range(24)]
    for person in people:
        await vote_as(agora, polls, person, CAMP_A)
    author = api.user(3001, "Auteur")
    texts = ["Premier avis", "Deuxième avis", "Troisième avis"]
    for text in texts:
        await agora.command(group, author, f"/avis {text}")
        await rate(agora, text, people[:12], 1)
        await rate(agora, text, people[12:], -1)
    answer = await agora.command(group, admin, "/groupes")
    text = "\n".join(m["text"] for m in answer)
    assert "Groupe 1 · 12 personnes (50" in text
    assert "Groupe 2 · 12 personnes (50" in text
    for rating in ("d’accord", "pas d’accord"):  # one group each way, on each opinion
        for opinion in texts:
            assert (
                f"\n• {rating} avec «{NBSP}{opinion}{NBSP}»{NBSP}: 100,0{NBSP}% d’entre eux, "
                f"contre 0,0{NBSP}% des autres"
            ) in text
