"""Rating the others' opinions in private: the deep link from /opinions, one opinion at a
time edited in place, never one's own, never twice, never a removed one, the end of the
queue; /rate without a link; forged links and buttons; the counts a group sees; /forgetme."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests.text import STANDOUT_RATERS, Rated, standouts
from storage.models import Opinion, Rating
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock

NBSP = "\u00a0"
GROUP = -100900


async def group_with_opinions(
    agora: Agora, api: FakeBotAPI, authors: list[str]
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A group with one opinion from each author (users 101, 102…), oldest first."""
    group = api.group(GROUP, "Débat <&>")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    people = []
    for n, name in enumerate(authors, 1):
        person = api.user(100 + n, name)
        await agora.command(group, person, f"/avis Avis de {name}, numéro {n}")
        people.append(person)
    return group, admin, people


async def ratings(agora: Agora) -> dict[tuple[int, int], int]:
    async with AsyncSession(agora.engine) as session:
        rows = await session.execute(select(Rating.opinion_id, Rating.user_id, Rating.value))
        return {(opinion, user): value for opinion, user, value in rows}


async def counts(agora: Agora) -> dict[str, tuple[int, int, int]]:
    async with AsyncSession(agora.engine) as session:
        rows = await session.execute(
            select(Opinion.author, Opinion.agreed, Opinion.disagreed, Opinion.passed)
        )
        return {author: (a, d, p) for author, a, d, p in rows}


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def press(
    agora: Agora, api: FakeBotAPI, chat: dict[str, Any], user: dict[str, Any], message_id: int,
    label: str, data: str | None = None,
) -> dict[str, Any]:
    """Press the button `label` (or send `data`) on the message; the message as it is now."""
    if data is None:
        shown = api.messages[(chat["id"], message_id)]
        [data] = [b["callback_data"] for b in buttons(shown) if label in b["text"]]
    await agora.settle(api.callback_query(chat, user, message_id, data))
    return dict(api.messages[(chat["id"], message_id)])


async def start_from_listing(
    agora: Agora, api: FakeBotAPI, group: dict[str, Any], user: dict[str, Any]
) -> dict[str, Any]:
    """Follow the group's "Rate the others' opinions" button: /start with its payload."""
    [listing] = await agora.command(group, user, "/opinions")
    [link] = [b["url"] for b in buttons(listing) if "url" in b]
    assert link.startswith("https://t.me/agora_test_bot?start=rate_-100900_")
    payload = link.partition("?start=")[2]
    assert len(payload) <= 64
    [card] = await agora.command(api.private_chat(user), user, f"/start {payload}")
    return card


async def test_rating_one_at_a_time_edited_in_place(agora: Agora, api: FakeBotAPI) -> None:
    group, admin, (alice, bob, _carol, zoe) = await group_with_opinions(
        agora, api, ["Alice", "Bob", "Carol", "Zoé"]
    )
    private = api.private_chat(zoe)
    card = await start_from_listing(agora, api, group, zoe)
    # The newest of the opinions nobody rated yet, never Zoé's own; its author is not named.
    assert card["text"] == (
        "🗳 Avis dans Débat <&> — Crise à la tête d’OpenAI : le limogeage de Sam Altman sème le "
        "chaos\n\nSur l’article\nAvis de Carol, numéro 3\n\nÊtes-vous d’accord\u202f?\n"
        "Évalués jusqu’ici : 0 · restants, celui-ci compris : 3"
    ).replace(" :", f"{NBSP}:").replace(" ?", "\u202f?")
    assert [b["text"] for b in buttons(card)] == ["👍 D’accord", "👎 Pas d’accord", "Passer"]
    message_id = card["message_id"]
    first_data = next(b["callback_data"] for b in buttons(card) if "D’accord" in b["text"])

    shown = await press(agora, api, private, zoe, message_id, "👍")
    assert "Avis de Bob, numéro 2" in shown["text"]
    assert f"Évalués jusqu’ici{NBSP}: 1 · restants, celui-ci compris{NBSP}: 2" in shown["text"]
    assert agora.new_messages() == []  # the same message, edited: nothing new was sent

    # Pressing the first card's button again changes nothing: the first rating stays.
    shown = await press(agora, api, private, zoe, message_id, "", data=first_data.replace(
        ":a:", ":d:"
    ))
    assert api.calls_of("answerCallbackQuery")[-1]["text"] == (
        f"Vous aviez déjà évalué cet avis{NBSP}: votre première évaluation est conservée."
    )
    assert "Avis de Bob, numéro 2" in shown["text"]
    carol_id = next(o for o, u in await ratings(agora) if u == zoe["id"])
    assert await ratings(agora) == {(carol_id, zoe["id"]): 1}

    # Bob's opinion is removed by moderation while it is on Zoé's screen.
    async with AsyncSession(agora.engine) as session:
        bob_id = await session.scalar(select(Opinion.id).where(Opinion.author == "Bob"))
    await agora.command(group, admin, f"/supprimer {bob_id}")
    shown = await press(agora, api, private, zoe, message_id, "👎")
    assert api.calls_of("answerCallbackQuery")[-1]["text"] == "Cet avis a été supprimé."
    assert "Avis de Alice, numéro 1" in shown["text"]
    shown = await press(agora, api, private, zoe, message_id, "Passer")
    assert shown["text"] == (
        f"C’est tout pour l’instant{NBSP}: vous avez évalué tous les avis de Débat <&> (2 avis). "
        f"Revenez quand de nouveaux seront écrits{NBSP}: /evaluer."
    )
    assert buttons(shown) == []
    assert (await counts(agora))["Alice"] == (0, 0, 1)
    assert (await counts(agora))["Carol"] == (1, 0, 0)
    assert (await counts(agora))["Zoé"] == (0, 0, 0)

    # A new opinion comes first to the next person, before the ones others already rated.
    await agora.command(group, bob, "/avis Un nouvel avis de Bob")
    [card] = await agora.command(api.private_chat(alice), alice, "/evaluer")
    assert "Un nouvel avis de Bob" in card["text"]
    assert "Avis dans Débat <&>" in card["text"]  # the group where Alice last wrote


async def test_what_the_group_sees_of_the_ratings(agora: Agora, api: FakeBotAPI) -> None:
    group, admin, people = await group_with_opinions(
        agora, api, ["Alice", "Bob", "Carol", "Dan"]
    )
    # Everybody but Alice rates Alice's opinion; Dan alone rates Bob's.
    for person, label in zip(people[1:], ["👍", "👍", "👎"], strict=True):
        private = api.private_chat(person)
        [card] = await agora.command(private, person, "/evaluer")
        while "Avis de Alice" not in api.messages[(private["id"], card["message_id"])]["text"]:
            await press(agora, api, private, person, card["message_id"], "Passer")
        await press(agora, api, private, person, card["message_id"], label)
    [listing] = await agora.command(group, admin, "/opinions")
    text = listing["text"]
    assert "Avis de Alice, numéro 1\n👍 2 · 👎 1 · 0 sans avis" in text
    # Bob's opinion: passed on by Carol and Dan on their way to Alice's — too few to show.
    assert (await counts(agora))["Bob"] == (0, 0, 2)
    assert "Avis de Bob, numéro 2\nn°" in text
    await agora.command(group, admin, "/lang en")
    [listing] = await agora.command(group, admin, "/opinions")
    assert "👍 2 · 👎 1 · 0 passed" in listing["text"]
    assert [b["text"] for b in buttons(listing)] == ["Rate the others' opinions"]


async def test_rate_without_a_link_and_forged_ones(agora: Agora, api: FakeBotAPI) -> None:
    group, _admin, (_alice, bob) = await group_with_opinions(agora, api, ["Alice", "Bob"])
    [answer] = await agora.command(group, bob, "/rate")
    assert answer["text"].startswith("Les avis s’évaluent un par un, en privé")
    [button] = buttons(answer)
    assert button["text"] == "Évaluer les avis des autres"
    assert "start=rate_-100900_" in button["url"]

    stranger = api.user(300, "Eve", language_code="en")
    private = api.private_chat(stranger)
    [answer] = await agora.command(private, stranger, "/rate")
    assert answer["text"] == (
        "Which group? Press “Rate the others' opinions” under /opinions in a group, or vote or "
        "write there first."
    )
    payload = button["url"].partition("?start=")[2]
    forged = payload[:-8] + ("A" * 8 if not payload.endswith("A" * 8) else "B" * 8)
    [answer] = await agora.command(private, stranger, f"/start {forged}")
    assert answer["text"] == "This link is no longer valid: use /rate."
    [answer] = await agora.command(private, stranger, f"/start {payload}")
    assert "Avis de Bob, numéro 2" in answer["text"]
    assert [b["text"] for b in buttons(answer)] == ["👍 Agree", "👎 Disagree", "Pass"]
    data = buttons(answer)[0]["callback_data"]
    # A press whose signature does not match the group changes nothing.
    await press(agora, api, private, stranger, answer["message_id"], "", data=data[:-2] + "zz")
    assert api.calls_of("answerCallbackQuery")[-1]["text"] == "This button is no longer valid."
    assert await ratings(agora) == {}
    # Bob cannot rate his own opinion, even with a forged press naming it.
    bob_private = api.private_chat(bob)
    [card] = await agora.command(bob_private, bob, "/evaluer")
    assert "Avis de Alice" in card["text"]
    own = data  # the stranger's button for Bob's opinion
    await press(agora, api, bob_private, bob, card["message_id"], "", data=own)
    assert await ratings(agora) == {}


@pytest.mark.parametrize("who", ["rater", "author"])
async def test_forget_me_removes_ratings(agora: Agora, api: FakeBotAPI, who: str) -> None:
    _group, _admin, (alice, bob, carol) = await group_with_opinions(
        agora, api, ["Alice", "Bob", "Carol"]
    )
    for person in (alice, carol):  # both rate Bob's opinion
        private = api.private_chat(person)
        [card] = await agora.command(private, person, "/evaluer")
        while "Avis de Bob" not in api.messages[(private["id"], card["message_id"])]["text"]:
            await press(agora, api, private, person, card["message_id"], "Passer")
        await press(agora, api, private, person, card["message_id"], "👍")
    before = await ratings(agora)
    # Alice passed on Carol's opinion, Carol on Alice's (each the newest left to them, then
    # the one fewest had rated), then both agreed with Bob's.
    assert len(before) == 4
    forgotten = alice if who == "rater" else bob
    private = api.private_chat(forgotten)
    [question] = await agora.command(private, forgotten, "/oublier")
    yes = buttons(question)[0]
    done = await press(
        agora, api, private, forgotten, question["message_id"], "", yes["callback_data"]
    )
    after = await ratings(agora)
    if who == "rater":
        assert done["text"] == "C’est fait : 0 vote, 1 avis et 2 évaluations supprimés.".replace(
            " :", f"{NBSP}:"
        )
        assert all(user != alice["id"] for _, user in after)
        assert (await counts(agora))["Bob"] == (1, 0, 0)
        assert (await counts(agora))["Carol"] == (0, 0, 0)
    else:
        assert done["text"] == f"C’est fait{NBSP}: 0 vote et 1 avis supprimés."
        assert len(after) == 2  # the passes on Alice's and Carol's opinions are left
        assert "Bob" not in await counts(agora)


async def test_the_digest_names_the_broadest_agreement_and_the_most_divisive(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, _people = await group_with_opinions(
        agora, api, ["Alice", "Bob", "Carol", "Dan"]
    )
    # The counts as the rating loop keeps them (tested above), set here for five raters.
    rated = {"Alice": (4, 0, 1), "Bob": (3, 2, 0), "Carol": (3, 0, 1), "Dan": (1, 3, 1)}
    async with AsyncSession(agora.engine) as session, session.begin():
        for author, (agreed, disagreed, passed) in rated.items():
            await session.execute(
                update(Opinion)
                .where(Opinion.author == author)
                .values(agreed=agreed, disagreed=disagreed, passed=passed)
            )
    await agora.command(group, admin, "/lang en")
    await agora.command(group, admin, "/digest 09:00")
    clock.set("2026-11-26 09:00")
    [message] = await agora.fire_digest(group["id"])
    assert message["text"].endswith(
        "🤝 Broadest agreement: “Avis de Alice, numéro 1” (👍 4 · 👎 0 · 1 passed)\n"
        "⚖️ Most divisive: “Avis de Bob, numéro 2” (👍 3 · 👎 2 · 0 passed)"
    )
    [button] = buttons(message)  # under the digest: rate them in private
    assert button["text"] == "Rate the others' opinions"
    assert button["url"].startswith("https://t.me/agora_test_bot?start=rate_-100900_")


async def test_the_digest_carries_the_rating_button_once_there_are_opinions(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group = api.group(GROUP, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    await agora.command(group, admin, "/bilan 09:00")
    clock.set("2026-11-26 09:00")
    [empty] = await agora.fire_digest(group["id"])
    assert "reply_markup" not in empty  # nothing to rate
    await agora.command(group, api.user(101, "Alice"), "/avis Un premier avis")
    clock.set("2026-11-27 09:00")
    [digest] = await agora.fire_digest(group["id"])
    [button] = buttons(digest)
    assert button["text"] == "Évaluer les avis des autres"
    card = await agora.command(
        api.private_chat(admin), admin, f"/start {button['url'].partition('?start=')[2]}"
    )
    assert "Un premier avis" in card[0]["text"]
    # In private, a digest has no such button (the person rates from the groups).
    bob = api.user(12, "Bob", language_code="en")
    private = api.private_chat(bob)
    await agora.command(private, bob, "/opinion Mine, in private")
    await agora.command(private, bob, "/digest 09:00")
    clock.set("2026-11-28 09:00")
    assert all("reply_markup" not in m for m in await agora.fire_digest(private["id"]))


def test_standouts_need_five_raters_and_a_real_split() -> None:
    four, even = Rated("four", 3, 0, 1), Rated("even", 5, 5, 0)
    assert standouts([Rated("lopsided", 8, 2, 0), even]) == (Rated("lopsided", 8, 2, 0), even)
    assert standouts([Rated("mild", 4, 1, 0)]) == (Rated("mild", 4, 1, 0), None)
    assert standouts([Rated("none agree", 1, 4, 0)]) == (None, None)
    assert four.agreed + four.disagreed + four.passed < STANDOUT_RATERS  # compose filters it


async def test_the_export_counts_each_opinions_ratings_and_names_no_rater(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, _people = await group_with_opinions(agora, api, ["Alice", "Bob"])
    [listing] = await agora.command(group, admin, "/opinions")
    [link] = [b["url"].partition("?start=")[2] for b in buttons(listing) if "url" in b]
    for n, name in enumerate(["Xavier", "Yvonne"]):
        rater = api.user(300 + n, name)
        private = api.private_chat(rater)
        [card] = await agora.command(private, rater, f"/start {link}")
        shown = await press(agora, api, private, rater, card["message_id"], "👍")  # Bob's
        await press(agora, api, private, rater, shown["message_id"], "👎" if n else "Passer")
    await agora.command(group, admin, "/exporter")
    content = api.calls_of("sendDocument")[-1]["document"].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0][10:] == ["d’accord", "pas d’accord", "sans avis"]
    by_author = {row[6]: row[10:] for row in rows if row[0] == "avis"}
    assert by_author == {"Bob": ["2", "0", "0"], "Alice": ["0", "1", "1"]}
    for rater in ("Xavier", "Yvonne"):  # counts, never who rated
        assert rater not in content
