"""A second round after the close: asked by /poll, opened by an admin's press, its polls new,
its results beside the first round's, the two rounds' votes never mixed (results, all-chats
figures, export, final results), and the daily digest back for the new round."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests.schedule import Outcome
from storage.models import PostedPoll
from storage.polls import article_results
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, totals_match_tallies
from tests.test_close import group_with_votes

NBSP, NNBSP = "\u00a0", "\u202f"
ARTICLE = "openai-board-2023-11"


async def press(
    agora: Agora, api: FakeBotAPI, chat: dict[str, Any], user: dict[str, Any],
    message: dict[str, Any], index: int,
) -> list[dict[str, Any]]:
    """Press button `index` of the message's keyboard; what the bot sent."""
    data = message["reply_markup"]["inline_keyboard"][0][index]["callback_data"]
    return await agora.settle(api.callback_query(chat, user, message["message_id"], data))


async def test_a_second_round_is_asked_opened_once_and_shown_beside_the_first(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, round_one = await group_with_votes(agora, api, -100800)  # A, A, B
    await agora.command(group, admin, "/cloturer")
    polls_before = len(api.calls_of("sendPoll"))

    # An admin is asked; "keep them closed" posts nothing.
    [asked] = await agora.command(group, admin, "/sondage")
    assert asked["text"] == (
        f"Les sondages de cet article sont clos dans cette conversation (résultats "
        f"définitifs{NBSP}: /resultats). Ouvrir le tour 2, les mêmes questions en nouveaux "
        f"sondages{NNBSP}? Ses résultats seront présentés à côté de ceux du tour 1{NNBSP}; les "
        "votes des deux tours ne sont jamais mélangés."
    )
    buttons = asked["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["Ouvrir le tour 2", "Les laisser clos"]
    assert await press(agora, api, group, api.user(11, "Max"), asked, 0) == []  # a member's
    assert api.calls_of("answerCallbackQuery")[-1]["text"].startswith("Seuls les administrateurs")
    await press(agora, api, group, admin, asked, 1)
    assert api.messages[(group["id"], asked["message_id"])]["text"] == (
        f"Les sondages restent clos. Résultats définitifs{NBSP}: /resultats"
    )
    assert len(api.calls_of("sendPoll")) == polls_before

    # Opened: the same questions as new polls, under a heading that names the round.
    [asked] = await agora.command(group, admin, "/sondage")
    sent = await press(agora, api, group, admin, asked, 0)
    assert api.messages[(group["id"], asked["message_id"])]["text"] == (
        f"Le tour 2 est ouvert{NBSP}: ses sondages suivent. /resultats les montre à côté du "
        "tour 1."
    )
    assert sent[0]["text"].startswith(
        f"🗳 Crise à la tête d’OpenAI{NBSP}: le limogeage de Sam Altman sème le chaos — tour 2\n"
    )
    round_two = [m["poll"] for m in sent if "poll" in m]
    assert [p["question"] for p in round_two] == [p["question"] for p in round_one]
    assert not {p["id"] for p in round_two} & {p["id"] for p in round_one}
    assert not any(p["is_closed"] for p in round_two)
    # Pressed again (or by a second admin at the same time): nothing more is posted.
    await press(agora, api, group, admin, asked, 0)
    assert api.calls_of("answerCallbackQuery")[-1]["text"] == "Ce bouton n’est plus valable."
    assert len(api.calls_of("sendPoll")) == polls_before + 6

    for n, option in enumerate([1, 1, 1, 0]):
        await agora.vote(round_two[0]["id"], api.user(700 + n, f"W{n}"), [option])
    await agora.vote(round_two[0]["id"], api.user(500, "V0"), [1])  # V0 again, now for B
    [results] = await agora.command(group, admin, "/resultats")
    text = results["text"]
    assert text.startswith(
        f"📊 Résultats — Crise à la tête d’OpenAI{NBSP}: le limogeage de Sam Altman sème le "
        f"chaos — tour 2\nEntre parenthèses{NBSP}: le nombre de votes{NNBSP}; avec un signe "
        "(+ ou −), l’évolution depuis le tour 1, clos le jeudi 26 novembre 2026."
    )
    # Round 2: 5 voters, A once (20 %), B 4 times (80 %); round 1: 3 voters, A, A, B.
    assert f"Ce groupe{NBSP}: 5 votants (+2) · Total{NBSP}: 5 votants" in text
    assert f"20,0{NBSP}% (1, −46,7{NBSP}pts) · tour 1{NBSP}: 66,7{NBSP}%" in text
    assert f"80,0{NBSP}% (4, +46,7{NBSP}pts) · tour 1{NBSP}: 33,3{NBSP}%" in text

    async with AsyncSession(agora.engine) as session:
        polls = (await session.scalars(select(PostedPoll).order_by(PostedPoll.message_id))).all()
        assert [(p.round, p.superseded) for p in polls] == [(1, True)] * 6 + [(2, False)] * 6
        key = polls[0].question_key
        everywhere = await article_results(session, ARTICLE)
        assert everywhere[key].voters == 5  # the current round only: never 3 + 5
        assert everywhere[key].votes == {0: 1, 1: 4, 2: 0, 3: 0, 4: 0}
    assert await agora.tallies(round_one[0]["id"]) == {0: 2, 1: 1, 2: 0, 3: 0, 4: 0}  # kept
    await totals_match_tallies(agora.engine)

    # The export keeps both rounds, each row saying which.
    await agora.command(group, admin, "/exporter")
    rows = list(csv.reader(
        io.StringIO(api.calls_of("sendDocument")[-1]["document"].decode("utf-8-sig")),
        delimiter=";",
    ))
    assert rows[0][9] == "tour"
    first = [r for r in rows if r[0] == "résultat" and r[1] == "1"]
    assert [(r[9], r[4]) for r in first if r[3] == "Une crise de gouvernance inquiétante"] == [
        ("1", "2"), ("2", "1"),
    ]
    answers = [r[9] for r in rows if r[0] == "réponse"]
    assert sorted(answers) == ["1"] * 3 + ["2"] * 5

    # Closed again: round 2's final results beside round 1's, then a third round is offered.
    [final, _chart] = await agora.command(group, admin, "/cloturer")
    assert final["text"].startswith(
        f"🏁 Résultats définitifs — Crise à la tête d’OpenAI{NBSP}: le limogeage de Sam Altman "
        "sème le chaos — tour 2\n"
    )
    assert "l’évolution depuis le tour 1, clos le jeudi 26 novembre 2026." in final["text"]
    assert f"80,0{NBSP}% (4, +46,7{NBSP}pts) · tour 1{NBSP}: 33,3{NBSP}%" in final["text"]
    [asked] = await agora.command(group, admin, "/sondage")
    assert asked["reply_markup"]["inline_keyboard"][0][0]["text"] == "Ouvrir le tour 3"


async def test_the_digest_comes_back_with_the_new_round(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, _polls = await group_with_votes(agora, api, -100801)
    await agora.command(group, admin, "/bilan 09:00")
    await agora.command(group, admin, "/cloturer")
    clock.set("2026-11-26 09:00")
    await agora.fire_digest(group["id"])
    clock.set("2026-11-27 09:00")
    assert await agora.digests.deliver(group["id"], daily=True) == Outcome.CLOSED
    [asked] = await agora.command(group, admin, "/sondage")
    await press(agora, api, group, admin, asked, 0)
    [status] = await agora.command(group, admin, "/bilan")
    assert "Prochain" in status["text"]
    clock.set("2026-11-28 09:00")
    [text, *_] = await agora.fire_digest(group["id"])
    assert text["text"].startswith("🗞 Bilan du samedi 28 novembre 2026")
    assert "définitifs" not in text["text"]


async def test_a_private_chat_is_asked_in_english(agora: Agora, api: FakeBotAPI) -> None:
    bob = api.user(12, "Bob", language_code="en")
    chat = api.private_chat(bob)
    await agora.command(chat, bob, "/poll")
    await agora.command(chat, bob, "/close")
    [asked] = await agora.command(chat, bob, "/poll")
    assert asked["text"] == (
        "The polls of this article are closed in this chat (final results: /results). Open "
        "round 2: the same questions as new polls? Its results will be shown beside round 1's; "
        "the votes of the two rounds are never mixed."
    )
    sent = await press(agora, api, chat, bob, asked, 0)
    assert api.messages[(chat["id"], asked["message_id"])]["text"] == (
        "Round 2 is open: its polls follow. /results shows them beside round 1."
    )
    assert sent[0]["text"].startswith("🗳 Crisis at the top of OpenAI")
    assert "— round 2\n" in sent[0]["text"]
    assert len([m for m in sent if "poll" in m]) == 6
