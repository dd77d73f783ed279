"""/crosstab [/croiser]: an exact table from a designed vote matrix, the strongest link, the
"< 3" suppression in groups, and bad input answered with an example in the user's language."""

from __future__ import annotations

import pytest

from bot.insights.crosstab import CrossTab, Link, mask, strongest_link
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora
from tests.test_insights import vote_many

NBSP, NNBSP = "\u00a0", "\u202f"


async def posted_group(agora: Agora, api: FakeBotAPI, chat_id: int, command: str = "/sondage"):
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    polls = [m["poll"]["id"] for m in await agora.command(group, admin, command) if "poll" in m]
    return group, admin, polls


def table_of(message: dict) -> str:
    """The text of the message's one monospace block (entities count UTF-16 units)."""
    [pre] = [entity for entity in message["entities"] if entity["type"] == "pre"]
    units = message["text"].encode("utf-16-le")
    start, end = 2 * pre["offset"], 2 * (pre["offset"] + pre["length"])
    return units[start:end].decode("utf-16-le")


async def test_crosstab_is_exact_and_names_the_strongest_link(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await posted_group(agora, api, -100821)
    firing, microsoft = polls[1], polls[3]
    # Question 2 (firing) x question 4 (Microsoft). Voters 1000-1013 find it unjustified
    # (option 2): ten think Microsoft wins with Altman (0), four without him (1). Voters
    # 1014-1023 find it justified (0): four think Microsoft wins with Altman, six that it is
    # not the big winner (2). Voters 1024-1026 answered question 2 only, 1027-1028 question 4.
    await vote_many(agora, api, firing, [2] * 14 + [0] * 10 + [3] * 3, 1000)
    await vote_many(agora, api, microsoft, [0] * 10 + [1] * 4 + [0] * 4 + [2] * 6, 1000)
    await vote_many(agora, api, microsoft, [4, 4], 1027)

    [message] = await agora.command(group, admin, "/croiser 2 4")
    text = message["text"]
    assert text.startswith(
        "📐 Questions 2 et 4 croisées\n24 personnes ont répondu aux deux."
    )
    assert "\nA = 2. Que pensez-vous du licenciement surprise" in text
    assert "\nA3 Injustifié\n" in text
    assert "\nB3 Microsoft n’est pas le grand gagnant\n" in text
    share = lambda value: f"{value}{NBSP}%".rjust(6)  # noqa: E731
    assert table_of(message) == "\n".join(
        [
            "A1 · 10 votants",
            f" B1 ███░░░░░ {share('40,0')}  4",
            f" B2 ░░░░░░░░ {share('0,0')}  0",
            f" B3 █████░░░ {share('60,0')}  6",
            f" B4 ░░░░░░░░ {share('0,0')}  0",
            f" B5 ░░░░░░░░ {share('0,0')}  0",
            "A2 · 0 votant",
            "A3 · 14 votants",
            f" B1 ██████░░ {share('71,4')} 10",
            f" B2 ██░░░░░░ {share('28,6')}  4",
            f" B3 ░░░░░░░░ {share('0,0')}  0",
            f" B4 ░░░░░░░░ {share('0,0')}  0",
            f" B5 ░░░░░░░░ {share('0,0')}  0",
            "A4 · 0 votant",
            "A5 · 0 votant",
        ]
    )
    assert all(len(line) <= 32 for line in table_of(message).split("\n"))
    # Justified: 6 of 10 say Microsoft is not the big winner, 0 of the 14 others (z = 3.35);
    # "unjustified" and Microsoft wins with Altman, 71.4 % against 40.0 %, is not significant.
    assert (
        f"Lien le plus net{NBSP}: parmi ceux qui ont choisi «{NBSP}Justifié{NBSP}», 60,0{NBSP}% "
        f"ont choisi «{NBSP}Microsoft n’est pas le grand gagnant{NBSP}», contre 0,0{NBSP}% des "
        "autres."
    ) in text
    assert "< 3" not in text  # no cell under 3 here

    await agora.command(group, admin, "/lang en")
    [message] = await agora.command(group, admin, "/crosstab 4 2")
    assert message["text"].startswith(
        "📐 Questions 4 and 2 crossed\n24 people answered both."
    )
    assert (
        "Strongest link: among those who chose “Microsoft is not the big winner”, 100.0% chose "
        "“Justified”, against 22.2% of the others."
    ) in message["text"]


async def test_cells_under_three_are_hidden_in_groups(agora: Agora, api: FakeBotAPI) -> None:
    group, admin, polls = await posted_group(agora, api, -100822)
    opinion, firing = polls[0], polls[1]
    # A1: 12 people (B1 9, B2 2, B3 1); A2: 10 people (B1 8, B3 2); A3: 2 people (B1 2).
    await vote_many(agora, api, opinion, [0] * 12 + [1] * 10 + [2] * 2, 1000)
    await vote_many(
        agora, api, firing, [0] * 9 + [1] * 2 + [2] + [0] * 8 + [2] * 2 + [0] * 2, 1000
    )
    [message] = await agora.command(group, admin, "/croiser 1 2")
    blank = " " * 8
    # Shares are aligned on the widest, 100.0 % (the hidden row's), counts on the widest, 9.
    assert table_of(message) == "\n".join(
        [
            "A1 · 12 votants",
            f" B1 ██████░░  75,0{NBSP}% 9",
            f" B2 {blank}     < 3",
            f" B3 {blank}     < 3",
            f" B4 ░░░░░░░░   0,0{NBSP}% 0",
            f" B5 ░░░░░░░░   0,0{NBSP}% 0",
            "A2 · 10 votants",
            f" B1 ██████░░  80,0{NBSP}% 8",
            # B3 (2 people) is under 3; B2 (nobody) is hidden with it, or 10 - 8 would give
            # B3 away.
            f" B2 {blank}     < 3",
            f" B3 {blank}     < 3",
            f" B4 ░░░░░░░░   0,0{NBSP}% 0",
            f" B5 ░░░░░░░░   0,0{NBSP}% 0",
            "A3 · < 3",
            "A4 · 0 votant",
            "A5 · 0 votant",
        ]
    )
    assert (
        f"< 3{NBSP}: moins de 3 personnes, masqué pour qu’on ne puisse déduire la réponse "
        "de personne."
    ) in message["text"]


def test_privacy_keeps_the_link_from_revealing_a_hidden_cell() -> None:
    # A1: 20 people, all B1; A2: 2 people, both B1 (a hidden row); A3: 20 people, all B2.
    table = CrossTab.of([([0], [0], 20), ([1], [0], 2), ([2], [1], 20)], 3, 2)
    assert (table.both, table.row_totals, table.column_totals) == (42, [20, 2, 20], [22, 20])
    # In private, the strongest link: all of A3 chose B2, none of the 22 others.
    assert strongest_link(table, None) == Link(2, 1, 1.0, 0.0, pytest.approx(6.48, abs=0.01))
    # In a group, "the others" of A1 or A3 include A2's two people: with the other row shown,
    # their answers would follow. No link is named rather than one that reveals them.
    masked = mask(table, single_answer_b=True)
    assert masked.hidden_rows == {1}
    assert strongest_link(table, masked) is None


async def test_bad_input_gets_an_example(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100823, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    example = "par exemple /croiser 2 4."
    [missing] = await agora.command(group, admin, "/croiser")
    assert missing["text"] == (
        f"Indiquez les numéros de deux questions, comme dans /resultats{NBSP}: {example}"
    )
    [one] = await agora.command(group, admin, "/croiser 2")
    assert one["text"] == missing["text"]
    [word] = await agora.command(group, admin, "/croiser deux 4")
    assert word["text"] == missing["text"]
    [equal] = await agora.command(group, admin, "/croiser 3 3")
    assert equal["text"] == f"Choisissez deux questions différentes{NBSP}: {example}"
    [unknown] = await agora.command(group, admin, "/croiser 2 9")
    assert unknown["text"] == (
        f"Il n’y a pas de question 9{NBSP}: elles vont de 1 à 6. Par exemple /croiser 2 4."
    )
    [not_asked] = await agora.command(group, admin, "/croiser 1 2")
    assert not_asked["text"] == (
        f"La question 1 n’a pas encore été posée ici{NBSP}: publiez les sondages avec /sondage."
    )

    await agora.command(group, admin, "/sondage anonyme")
    [anonymous] = await agora.command(group, admin, "/croiser 1 2")
    assert anonymous["text"] == (
        f"La question 1 a été posée en sondage anonyme{NBSP}: seuls ses totaux sont connus, "
        "ses réponses ne peuvent donc pas être croisées avec d’autres. Croisez deux questions "
        "posées à visage découvert, par exemple /croiser 2 4."
    )

    bob = api.user(12, "Bob", language_code="en")
    [english] = await agora.command(api.private_chat(bob), bob, "/crosstab 1 x")
    assert english["text"] == (
        "Give the numbers of two questions, as in /results: for example /crosstab 2 4."
    )
    [nobody] = await agora.command(api.private_chat(bob), bob, "/crosstab 1 7")
    assert nobody["text"] == (
        "There is no question 7: they go from 1 to 6. For example /crosstab 2 4."
    )
