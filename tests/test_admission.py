"""Admission control end to end: a member's flood of commands or button presses gets one
polite notice and no more answers, never at an admin's or a voter's expense; a group is not
sent the same answer twice in a row; identical heavy requests are computed once."""

from __future__ import annotations

from prometheus_client import REGISTRY

from bot.engine.admission import Limits
from bot.insights import group_inputs as groups_handler
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora
from tests.test_groups import CAMP_A, CAMP_B, group_with_polls, vote_camps

NNBSP = "\u202f"
TOO_FAST_FR = f"Vous envoyez des commandes trop vite{NNBSP}; attendez quelques secondes."
TOO_FAST_EN = "You are sending commands too fast; wait a few seconds."


def computed(kind: str) -> float:
    return REGISTRY.get_sample_value("agora_heavy_computations_total", {"kind": kind}) or 0.0


async def flood(
    agora: Agora, api: FakeBotAPI, chat: dict, user: dict, text: str, n: int
) -> list[dict]:
    """`n` times the same message, all pushed at once; what the bot sent once all are handled."""
    last = 0
    for _ in range(n):
        last = api.send_text(chat, user, text)
    return await agora.settle(last)


async def test_a_members_flood_gets_one_notice_and_the_admin_is_answered(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100900)
    agora.new_messages()
    max_ = api.user(20, "Max")
    sent = await flood(agora, api, group, max_, "/aide", 30)
    helps = [m for m in sent if "/resume" in m["text"]]  # the help lists the commands
    notices = [m for m in sent if m["text"] == TOO_FAST_FR]
    assert len(helps) == 1  # the same answer, asked again at once: not sent again
    assert len(notices) == 1  # told once, then ignored
    assert len(sent) == 2
    assert notices[0]["reply_to_message"]["from"]["id"] == max_["id"]  # to the person

    # The admin's command goes through at once, and so do the flooder's votes.
    [results] = await agora.command(group, admin, "/resultats")
    assert results["text"].startswith("📊")
    await agora.vote(polls[0], max_, [1])
    assert (await agora.tallies(polls[0])).get(1) == 1


async def test_the_notice_is_in_the_persons_language(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100901, "Débat")
    bob = api.user(21, "Bob", language_code="en")
    sent = await flood(agora, api, group, bob, "/resultats", 20)
    assert [m["text"] for m in sent if "seconds" in m["text"] or "secondes" in m["text"]] == [
        TOO_FAST_EN
    ]
    # In private, the same: the person's language.
    léa = api.user(22, "Léa", language_code="fr")
    sent = await flood(agora, api, api.private_chat(léa), léa, "/aide", 20)
    assert [m["text"] for m in sent].count(TOO_FAST_FR) == 1
    # 12 at once (each asker in private gets the answer), a few refilled meanwhile, one notice
    assert 13 <= len(sent) <= 15


async def test_a_group_flooded_by_many_members_still_answers_its_admin(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, _polls = await group_with_polls(agora, api, -100902)
    # Time stands still for the buckets: on a loaded machine the forty commands can take
    # longer than the 2 s in which the group's bucket gains a token (a new flood, told again).
    agora.app.bot_data.admission.limits = Limits(clock=lambda: 0.0)
    agora.new_messages()
    last = 0
    for n in range(40):  # forty members, one command each, all different
        last = api.send_text(group, api.user(300 + n, f"M{n}"), f"/croiser 1 {n % 5 + 2}")
    sent = await agora.settle(last)
    told = (
        f"Cette conversation envoie trop de commandes à la fois{NNBSP}; attendez quelques secondes."
    )
    assert [m["text"] for m in sent].count(told) == 1
    assert len(sent) < 40  # the group's bucket held the rest back
    [results] = await agora.command(group, admin, "/resultats")
    assert results["text"].startswith("📊")


async def test_a_button_flood_gets_the_polite_callback_answer(
    agora: Agora, api: FakeBotAPI
) -> None:
    bob = api.user(23, "Bob", language_code="en")
    chat = api.private_chat(bob)
    for n in range(5):  # five opinions of 900 characters: two pages
        await agora.command(chat, bob, f"/opinion Opinion number {n}: " + "thought " * 110)
    [listing] = await agora.command(chat, bob, "/opinions")
    older = listing["reply_markup"]["inline_keyboard"][0][-1]["callback_data"]
    answered = len(api.calls_of("answerCallbackQuery"))
    last = 0
    for _ in range(30):
        last = api.callback_query(chat, bob, listing["message_id"], older)
    await agora.settle(last)
    answers = api.calls_of("answerCallbackQuery")[answered:]
    assert len(answers) == 30  # every press is answered
    refused = [a for a in answers if a.get("text") == (
        "You are pressing buttons too fast; wait a few seconds."
    )]
    assert 1 <= len(refused) <= 10  # 20 at once, then two a second


async def test_identical_groups_all_requests_are_computed_once(
    agora: Agora, api: FakeBotAPI
) -> None:
    _group, _admin, polls = await group_with_polls(agora, api, -100903)
    await vote_camps(agora, api, polls, [(CAMP_A, 12), (CAMP_B, 10)], 3000)
    ada = api.user(24, "Ada", language_code="fr")
    others = [api.user(25 + n, f"U{n}", language_code="en") for n in range(3)]
    agora.new_messages()
    before = computed("groups")
    last = 0
    with groups_handler.CLUSTERING:  # the first computation waits here; the rest pile up
        for _ in range(20):
            last = api.send_text(api.private_chat(ada), ada, "/camps tous")
        for user in others:
            last = api.send_text(api.private_chat(user), user, "/groups all")
        await agora.handled(last)
    await agora.sent_out()
    assert computed("groups") == before + 1
    sent = agora.new_messages()
    to_ada = [m["text"] for m in sent if m["chat"]["id"] == ada["id"]]
    assert to_ada.count(TOO_FAST_FR) == 1
    assert 12 <= sum(t.startswith("🧭") for t in to_ada) <= 14  # 12 at once, a few refilled
    for user in others:  # each asker gets the answer, in their own language
        [answer] = [m["text"] for m in sent if m["chat"]["id"] == user["id"]]
        assert answer.startswith("🧭")
        assert "voters" in answer
