"""/groups [/camps]: two planted camps found with what sets them apart and what they share;
too few voters; all chats; a group under three people is never described."""

from __future__ import annotations

from bot.opinion_groups import Ballots, describe
from tests.botapi.server import FakeBotAPI
from tests.harness import Agora

NBSP = "\u00a0"
OPTIONS = [5, 5, 9, 5, 4, 8]  # the first article's questions

# Camp A: a worrying crisis (Q1 option 0), unjustified (Q2 option 2), Microsoft wins with
# Altman (Q4 option 0). Camp B: a power struggle (Q1 option 2), justified (Q2 option 0),
# Microsoft not the big winner (Q4 option 2). Both: the board will resign (Q5 option 0).
CAMP_A = {0: 0, 1: 2, 3: 0, 4: 0}
CAMP_B = {0: 2, 1: 0, 3: 2, 4: 0}


async def vote_camps(
    agora: Agora, api: FakeBotAPI, polls: list[str], camps: list[tuple[dict[int, int], int]],
    first_user: int,
) -> None:
    last, user = 0, first_user
    for answers, count in camps:
        for _ in range(count):
            for question, option in answers.items():
                last = api.vote(polls[question], api.user(user, f"V{user}"), [option])
            user += 1
    await agora.settle(last)


async def group_with_polls(agora: Agora, api: FakeBotAPI, chat_id: int):
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    polls = [m["poll"]["id"] for m in await agora.command(group, admin, "/sondage") if "poll" in m]
    return group, admin, polls


async def test_two_planted_camps_are_found_with_what_sets_them_apart(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100831)
    # 12 in camp A, 10 in camp B, and two who answered a single question (not counted).
    await vote_camps(agora, api, polls, [(CAMP_A, 12), (CAMP_B, 10), ({2: 1}, 2)], 3000)
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/camps"))
    assert text.startswith(
        "🧭 Groupes d'opinion — Crise à la tête d'OpenAI"
    )
    assert (
        "D'après 22 votants ayant répondu à au moins la moitié des questions, dans ce groupe."
    ) in text
    assert (
        f"Groupe 1 · 12 personnes (54,5{NBSP}%)\n"
        f"• «{NBSP}Une crise de gouvernance inquiétante{NBSP}» (question 1){NBSP}: 100,0{NBSP}% "
        f"d'entre eux, contre 0,0{NBSP}% des autres\n"
        f"• «{NBSP}Injustifié{NBSP}» (question 2){NBSP}: 100,0{NBSP}% d'entre eux, contre "
        f"0,0{NBSP}% des autres\n"
    ) in text
    assert f"Groupe 2 · 10 personnes (45,5{NBSP}%)\n• «{NBSP}Avant tout une lutte" in text
    assert (
        f"Terrain d'entente (une majorité de chaque groupe){NBSP}:\n"
        f"• «{NBSP}Oui, il démissionnera et cédera{NBSP}» (question 5){NBSP}: de 100,0{NBSP}% à "
        f"100,0{NBSP}%"
    ) in text
    assert f"Ce qui divise le plus{NBSP}: la question 1\nQuel est votre avis" in text
    assert (
        f"«{NBSP}Une crise de gouvernance inquiétante{NBSP}»{NBSP}: 100,0{NBSP}% dans le groupe 1, "
        f"0,0{NBSP}% dans le groupe 2."
    ) in text
    assert "se recoupent" not in text  # two clean camps
    assert "V30" not in text  # nobody is named

    await agora.command(group, admin, "/lang en")
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/groups"))
    assert "Based on 22 voters who answered at least half of the questions, in this group." in text
    assert (
        "Group 2 · 10 people (45.5%)\n• “Above all a power struggle” (question 1): 100.0% of "
        "them, against 0.0% of the others"
    ) in text
    assert "Common ground (a majority of every group):\n• “Yes, it will resign" in text


async def test_too_few_voters_here_but_enough_in_all_chats(agora: Agora, api: FakeBotAPI) -> None:
    first, admin, first_polls = await group_with_polls(agora, api, -100832)
    _, _, second_polls = await group_with_polls(agora, api, -100833)
    await vote_camps(agora, api, first_polls, [(CAMP_A, 6), (CAMP_B, 5)], 4000)
    await vote_camps(agora, api, second_polls, [(CAMP_A, 6), (CAMP_B, 5)], 5000)
    [few] = await agora.command(first, admin, "/camps")
    assert few["text"] == (
        "Les groupes d'opinion demandent au moins 20 votants ayant répondu à au moins la moitié "
        f"des questions (11 pour l'instant, dans ce groupe){NBSP}: il en manque 9. Pour toutes les "
        f"conversations réunies{NBSP}: /camps tous."
    )
    text = "\n".join(m["text"] for m in await agora.command(first, admin, "/camps tous"))
    assert "22 votants ayant répondu à au moins la moitié des questions, dans toutes" in text
    assert f"Groupe 1 · 12 personnes (54,5{NBSP}%)" in text
    [bad] = await agora.command(first, admin, "/camps demain")
    assert bad["text"] == (
        "Utilisez /camps pour cette conversation, ou /camps tous pour toutes les conversations "
        "réunies."
    )


async def test_a_group_of_fewer_than_three_is_not_described(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100834)
    # Twenty people answer alike; two answer everything differently.
    await vote_camps(agora, api, polls, [(CAMP_A, 20), ({0: 3, 1: 4, 3: 4, 4: 3}, 2)], 6000)
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/camps"))
    assert (
        f"Groupe 2 · moins de 3 personnes{NBSP}: non décrit, pour qu'on ne puisse déduire les "
        "réponses de personne."
    ) in text
    # Nor by difference: the large group is not compared with the two.
    assert "des autres" not in text
    assert "Rien ne distingue nettement ce groupe." in text
    for option in ("Une affaire surmédiatisée", "Sans opinion", "Trop tôt pour le dire"):
        assert option not in text


def test_groups_are_the_same_for_the_same_votes() -> None:
    voters = [dict((q, [o]) for q, o in CAMP_A.items())] * 15 + [
        dict((q, [o]) for q, o in CAMP_B.items())
    ] * 9 + [{0: [1], 1: [1], 2: [0, 3], 3: [1]}] * 4
    first = describe(Ballots.collect(OPTIONS, voters))
    second = describe(Ballots.collect(OPTIONS, voters))
    assert first is not None
    assert first == second
    assert [g.size for g in first.groups] == [15, 9, 4]
