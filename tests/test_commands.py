"""Help, summary, articles and language, end to end through the local Bot API server."""

from __future__ import annotations

import pytest

from tests.support.botapi import FakeBotAPI
from tests.support.fuzz.world import fresh_world
from tests.support.harness import Agora

pytestmark = pytest.mark.floors

NBSP, NNBSP = "\u00a0", "\u202f"


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


async def test_help_in_french_by_default_and_in_english_for_english_users(
    agora: Agora, api: FakeBotAPI
) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    bob = api.user(1002, "Bob", language_code="en-GB")
    [fr] = await agora.command(api.private_chat(alice), alice, "/aide")
    [en] = await agora.command(api.private_chat(bob), bob, "/help")
    assert "débattez d’un article" in fr["text"]
    assert "/resume — le résumé de l’article" in fr["text"]
    assert "/sondage [anonyme]" in fr["text"]
    assert "discuss a news article" in en["text"]
    assert "/summary — the article's summary" in en["text"]
    [start] = await agora.command(api.private_chat(bob), bob, "/start")
    assert start["text"] == en["text"]


async def test_unsupported_user_language_falls_back_to_default(
    agora: Agora, api: FakeBotAPI
) -> None:
    carla = api.user(1003, "Carla", language_code="de")
    [reply] = await agora.command(api.private_chat(carla), carla, "/help")
    assert "Commandes" in reply["text"]


async def test_group_uses_default_language_whatever_the_user_speaks(
    agora: Agora, api: FakeBotAPI
) -> None:
    group = api.group(-100500, "Débat <IA> & co")
    bob = api.user(1002, "Bob", language_code="en")
    [reply] = await agora.command(group, bob, "/help")
    assert "Commandes" in reply["text"]


async def test_summary_in_both_languages(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    bob = api.user(1002, "Bob", language_code="en")
    [fr] = await agora.command(api.private_chat(alice), alice, "/resume")
    [en] = await agora.command(api.private_chat(bob), bob, "/summary")
    assert fr["text"].startswith("📰 Crise à la tête d’OpenAI")
    assert "Emmett Shear" in fr["text"]
    assert f"95{NBSP}%" in fr["text"]
    assert "Situation au lundi 20 novembre 2023" in fr["text"]
    assert en["text"].startswith("📰 Crisis at the top of OpenAI")
    assert "723 of 778" in en["text"]
    assert "Events up to Monday, 20 November 2023" in en["text"]
    assert fr["text"].endswith(
        f"Répondez à ce message pour donner votre avis · Sondages{NBSP}: /sondage · "
        f"Résultats{NBSP}: /resultats"
    )
    assert en["text"].endswith(
        "Reply to this message to give your opinion · Polls: /poll · Results: /results"
    )
    assert len(fr["text"]) <= 4096
    assert len(en["text"]) <= 4096
    # The title is bold: the message went out in HTML.
    assert api.calls_of("sendMessage")[-1]["parse_mode"] == "HTML"


async def test_lang_keyboard_argument_and_bad_code(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    [keyboard] = await agora.command(chat, alice, "/langue")
    buttons = keyboard["reply_markup"]["inline_keyboard"][0]
    assert [b["callback_data"] for b in buttons] == ["lang:fr", "lang:en"]
    assert keyboard["text"] == f"Choisissez la langue de cette conversation{NBSP}:"

    [bad] = await agora.command(chat, alice, "/langue de")
    assert bad["text"] == (
        f"«{NBSP}de{NBSP}» n’est pas une langue prise en charge. Utilisez /langue fr "
        "(français) ou /langue en (English)."
    )
    [ok] = await agora.command(chat, alice, "/langue en")
    assert ok["text"] == "From now on I speak English in this chat. Commands: /help"
    [help_en] = await agora.command(chat, alice, "/aide")
    assert "Commands" in help_en["text"]

    # The keyboard switches back; the confirmation replaces the keyboard message.
    await agora.settle(api.callback_query(chat, alice, keyboard["message_id"], "lang:fr"))
    edited = api.calls_of("editMessageText")[-1]
    assert edited[
        "text"
    ] == "Désormais, je parle français dans cette conversation. Commandes : /aide".replace(
        " :", f"{NBSP}:"
    )
    [help_fr] = await agora.command(chat, alice, "/help")
    assert "Commandes" in help_fr["text"]


async def test_forged_language_button_changes_nothing(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="en")
    chat = api.private_chat(alice)
    [keyboard] = await agora.command(chat, alice, "/lang")
    await agora.settle(api.callback_query(chat, alice, keyboard["message_id"], "lang:xx"))
    answer = api.calls_of("answerCallbackQuery")[-1]
    assert answer["text"] == "This button is no longer valid."
    [still_en] = await agora.command(chat, alice, "/help")
    assert "Commands" in still_en["text"]


async def test_only_admins_change_a_group_language(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100600, "Club")
    admin, member = api.user(2001, "Ada"), api.user(2002, "Max")
    api.set_admin(group["id"], admin)
    [refused] = await agora.command(group, member, "/langue en")
    assert (
        refused["text"] == "Seuls les administrateurs du groupe peuvent changer la langue\u00a0: "
        "demandez-le à l’un d’eux."
    )
    [still_fr] = await agora.command(group, member, "/help")
    assert "Commandes" in still_fr["text"]
    [ok] = await agora.command(group, admin, "/langue en")
    assert ok["text"].startswith("From now on I speak English")
    # An anonymous administrator writes as the group itself.
    [back] = await agora.command(group, None, "/lang fr", sender_chat=group)
    assert back["text"].startswith("Désormais, je parle français")


async def test_articles_and_choosing_one(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    [listing] = await agora.command(chat, alice, "/articles")
    assert "openai-board-2023-11" in listing["text"]
    assert "en cours" in listing["text"]
    [unknown] = await agora.command(chat, alice, "/article <b>nope</b>")
    assert unknown["text"] == (
        f"Aucun article «{NBSP}<b>nope</b>{NBSP}». Consultez la liste avec /articles."
    )
    assert api.calls_of("sendMessage")[-1]["parse_mode"] == "HTML"  # escaped, then parsed
    [chosen] = await agora.command(chat, alice, "/article openai-board-2023-11")
    assert chosen["text"].startswith(f"Cette conversation débat désormais de «{NBSP}Crise")
    [current] = await agora.command(chat, alice, "/article")
    assert current["text"].startswith(f"L’article en cours est «{NBSP}Crise")


async def test_unknown_command_and_free_text(agora: Agora, api: FakeBotAPI) -> None:
    bob = api.user(1002, "Bob", language_code="en")
    chat = api.private_chat(bob)
    [unknown] = await agora.command(chat, bob, "/frobnicate")
    assert unknown["text"] == "I don't know that command. See /help for the list."
    [text] = await agora.command(chat, bob, "hello")
    assert text["text"] == "I answer commands: see /help."
    group = api.group(-100700, "Club")
    assert await agora.command(group, bob, "/frobnicate") == []  # maybe another bot's
    assert await agora.command(group, bob, "/help@some_other_bot") == []


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_command_menus_are_registered_per_language(
    agora: Agora, api: FakeBotAPI, language: str
) -> None:
    names = [c["command"] for c in api.commands_for(language)]
    expected = {
        "fr": ["aide", "resume", "sondage", "resultats", "cloturer", "croiser", "groupes", "avis",
               "opinions", "evaluer", "moi", "supprimer", "exporter", "oublier", "articles",
               "article", "langue", "bilan", "fuseau", "canal", "publier",
               "rapport"],
        "en": ["help", "summary", "poll", "results", "close", "crosstab", "groups", "opinion",
               "opinions", "rate", "me", "delete", "export", "forgetme", "articles", "article",
               "lang", "digest", "timezone", "channel", "publish",
               "report"],
    }
    assert names == expected[language]


async def test_only_admins_choose_a_group_article(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100610, "Club")
    admin, member = api.user(2001, "Ada"), api.user(2002, "Max")
    api.set_admin(group["id"], admin)
    [refused] = await agora.command(group, member, "/article openai-board-2023-11")
    assert refused["text"] == (
        "Seuls les administrateurs du groupe peuvent changer d’article\u00a0: "
        "demandez-le à l’un d’eux."
    )
    [chosen] = await agora.command(group, admin, "/article openai-board-2023-11")
    assert chosen["text"].startswith("Cette conversation débat désormais de")


# Found by the fuzzer (tests/test_fuzz.py), each the shortest sequence of updates that
# showed it, replayed in the fuzzer's world.


async def test_a_time_zone_naming_a_folder_is_unknown(database_url: str) -> None:
    async with fresh_world(database_url) as world:
        ada, chat = world.users["ada"], world.chats["@ada"]
        answers = {}
        for name in ("Europe", "a" * 300):
            [answers[name]] = await world.agora.command(chat, ada, f"/fuseau {name}")
        unknown = "Je ne connais pas le fuseau horaire «\xa0{}\xa0»."
        assert answers["Europe"]["text"].startswith(unknown.format("Europe"))
        cut = "a" * 63 + "…"  # what was typed, cut: the answer stays short
        assert answers["a" * 300]["text"].startswith(unknown.format(cut))


async def test_a_double_tap_edits_the_message_once(
    database_url: str,
) -> None:
    async with fresh_world(database_url) as world:
        bob, chat = world.users["bob"], world.chats["@bob"]
        [keyboard] = await world.agora.command(chat, bob, "/lang")
        world.press(chat, bob, keyboard, "lang:en")
        await world.settle(world.press(chat, bob, keyboard, "lang:en"))
        await world.agora.sent_out()
        assert world.refusals == []
        edited = world.api.messages[chat["id"], keyboard["message_id"]]
        assert edited["text"].startswith("From now on I speak English in this chat.")


async def test_forged_button_data_on_a_poll_edits_nothing(database_url: str) -> None:
    async with fresh_world(database_url) as world:
        bob, group = world.users["bob"], world.chats["A"]
        poll = world.api.sent(group["id"], "sendPoll")[0]
        await world.settle(world.press(group, bob, poll, f"forget:{bob['id']}:no"))
        await world.agora.sent_out()
        assert world.refusals == []


async def test_a_button_of_no_known_kind_is_answered(database_url: str) -> None:
    async with fresh_world(database_url) as world:
        bob, chat = world.users["bob"], world.chats["@bob"]
        [summary] = world.api.sent(chat["id"])
        await world.settle(world.press(chat, bob, summary, "vote:1"))
        await world.agora.sent_out()
        query_id = list(world.api.callback_queries)[-1]
        assert world.api.callback_answers[query_id]["text"] == "This button is no longer valid."
