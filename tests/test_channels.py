"""Channels: linked by one of their administrators from a private chat (/canal @nom), never
posted in until asked, then published in (/publier @nom: the summary with its two buttons,
and anonymous polls, once per article; or each new article, with `auto`), their results
public (/resultats @nom, and the button's deep link), answers given in person counted as
identified respondents, the discussion group's replies as opinions, the settings changed
from private, and Agora's rights there followed (my_chat_member)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelManager, Chat
from tests.support.articles import write_article
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock
from tests.test_announcements import reload

NBSP, NNBSP = "\u00a0", "\u202f"
CHANNEL_ID = -1001500


def newsroom(api: FakeBotAPI) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A public channel where Agora is an administrator allowed to post, its administrator
    Ada and a reader, Bob."""
    channel = api.group(CHANNEL_ID, "Le Quotidien <Nord>", "channel", username="LeQuotidien")
    ada = api.user(10, "Ada", language_code="fr")
    bob = api.user(20, "Bob", language_code="fr")
    api.users[bob["id"]] = bob
    api.set_admin(CHANNEL_ID, ada)
    api.set_admin(CHANNEL_ID, api.bot_user, "administrator")
    return channel, ada, bob


async def in_private(agora: Agora, api: FakeBotAPI, person: dict[str, Any], text: str) -> str:
    """What the bot answered `person` in private to `text`, its messages one after the other
    (the channel's posts aside)."""
    sent = await agora.command(api.private_chat(person), person, text)
    answers = [str(m["text"]) for m in sent if m["chat"]["id"] == person["id"]]
    assert answers
    return "\n".join(answers)


async def managers(agora: Agora) -> list[tuple[int, int]]:
    async with AsyncSession(agora.engine) as session:
        rows = await session.execute(select(ChannelManager.channel_id, ChannelManager.user_id))
        return sorted((int(c), int(u)) for c, u in rows)


async def stored_channel(agora: Agora) -> Chat | None:
    async with AsyncSession(agora.engine) as session:
        return await session.get(Chat, CHANNEL_ID)


async def test_a_channel_is_linked_by_its_administrator_and_nothing_is_posted_there(
    agora: Agora, api: FakeBotAPI
) -> None:
    channel, ada, bob = newsroom(api)
    await agora.handled(api.my_chat_member(channel, ada, "left", "administrator"))
    assert api.sent(chat_id=CHANNEL_ID) == []  # added: it says nothing in the channel

    [none] = await agora.command(api.private_chat(ada), ada, "/canal")
    assert none["text"].startswith("Vous n’avez encore relié aucun canal à Agora.")

    [refused] = await agora.command(api.private_chat(bob), bob, "/canal @lequotidien")
    assert refused["text"] == (
        f"Seuls les administrateurs de ce canal peuvent le faire{NBSP}: Telegram ne vous compte "
        "pas parmi eux."
    )
    assert await managers(agora) == []
    assert await stored_channel(agora) is None

    [linked] = await agora.command(api.private_chat(ada), ada, "/canal https://t.me/LeQuotidien")
    assert linked["text"] == (
        "✅ Le Quotidien <Nord> (@LeQuotidien) est relié à Agora. Rien n’y est publié tant que "
        f"vous ne le demandez pas{NBSP}:\n"
        f"• /publier @LeQuotidien{NBSP}: le résumé de l’article, puis ses questions en "
        f"sondages{NNBSP};\n"
        f"• /resultats @LeQuotidien{NBSP}: les résultats, que chacun peut demander{NNBSP};\n"
        f"• /canal{NBSP}: vos canaux et leurs réglages."
    )
    assert await managers(agora) == [(CHANNEL_ID, ada["id"])]
    stored = await stored_channel(agora)
    assert stored is not None
    assert (stored.type, stored.username, stored.language, stored.digest_enabled) == (
        "channel", "LeQuotidien", "fr", False
    )
    # Linking again changes nothing; the list shows the channel and its settings.
    await agora.command(api.private_chat(ada), ada, "/canal @lequotidien")
    assert await managers(agora) == [(CHANNEL_ID, ada["id"])]
    [listed] = await agora.command(api.private_chat(ada), ada, "/canal")
    assert listed["text"] == (
        "Vos canaux sur Agora\n• Le Quotidien <Nord> (@LeQuotidien)\n"
        f"  FR · «{NBSP}Crise à la tête d’OpenAI{NBSP}: le limogeage de Sam Altman sème le "
        f"chaos{NBSP}» · pas encore publié (/publier) · pas de bilan"
    )
    assert api.sent(chat_id=CHANNEL_ID) == []


async def test_forgetting_oneself_forgets_which_channels_one_manages(
    agora: Agora, api: FakeBotAPI
) -> None:
    """/oublier deletes the person's links to the channels they manage (who runs a channel is
    theirs to take back); the channel and its settings stay for its other administrators."""
    _channel, ada, _bob = newsroom(api)
    eve = api.user(30, "Eve", language_code="fr")
    api.set_admin(CHANNEL_ID, eve)
    for person in (ada, eve):
        await agora.command(api.private_chat(person), person, "/canal @LeQuotidien")
    assert await managers(agora) == [(CHANNEL_ID, ada["id"]), (CHANNEL_ID, eve["id"])]
    private = api.private_chat(ada)
    [question] = await agora.command(private, ada, "/oublier")
    yes, _no = question["reply_markup"]["inline_keyboard"][0]
    await agora.handled(
        api.callback_query(private, ada, question["message_id"], yes["callback_data"])
    )
    assert await managers(agora) == [(CHANNEL_ID, eve["id"])]
    [none] = await agora.command(private, ada, "/canal")
    assert none["text"].startswith("Vous n’avez encore relié aucun canal à Agora.")
    assert await stored_channel(agora) is not None
    listed = await in_private(agora, api, eve, "/canal")
    assert "Le Quotidien <Nord> (@LeQuotidien)" in listed


async def test_what_stops_a_link_is_said_and_changes_nothing(
    agora: Agora, api: FakeBotAPI
) -> None:
    channel, ada, _bob = newsroom(api)
    api.set_admin(CHANNEL_ID, api.bot_user, "member")  # a subscriber, not an administrator
    private = api.private_chat(ada)
    [not_admin] = await agora.command(private, ada, "/canal @LeQuotidien")
    assert not_admin["text"].startswith(
        "Je ne suis pas administrateur du canal Le Quotidien <Nord> (@LeQuotidien) avec le "
        "droit de publier."
    )
    [unknown] = await agora.command(private, ada, "/canal @personne_ici")
    assert unknown["text"].startswith(f"Je ne trouve pas @personne_ici. Vérifiez le nom{NNBSP};")
    group = api.group(-100600, "Débat", username="debat_public")
    [a_group] = await agora.command(private, ada, "/canal @debat_public")
    assert a_group["text"] == (
        "Débat (@debat_public) n’est pas un canal. Dans un groupe, ajoutez-moi au groupe et "
        "utilisez /sondage là-bas."
    )
    [nonsense] = await agora.command(private, ada, "/canal <b>rien</b>")
    assert nonsense["text"] == (
        f"«{NBSP}<b>rien</b>{NBSP}» n’est pas un nom de canal{NBSP}: écrivez /canal @nom, ou "
        "l’identifiant numérique du canal (-100…)."
    )
    [in_group] = await agora.command(group, ada, "/canal @LeQuotidien")
    assert in_group["text"] == (
        f"Les canaux se configurent dans une conversation privée avec moi{NBSP}: envoyez-moi "
        "/canal @nom là-bas."
    )
    [unlinked] = await agora.command(private, ada, "/publier @LeQuotidien")
    assert unlinked["text"] == (
        f"@LeQuotidien n’est pas encore relié à Agora{NBSP}: envoyez d’abord /canal @LeQuotidien."
    )
    assert await managers(agora) == []
    assert api.sent(chat_id=CHANNEL_ID) == []
    del channel


async def test_publishing_posts_the_summary_and_anonymous_polls_once_and_results_are_public(
    agora: Agora, api: FakeBotAPI
) -> None:
    _channel, ada, bob = newsroom(api)
    private = api.private_chat(ada)
    await agora.command(private, ada, "/canal @LeQuotidien")
    told = await in_private(agora, api, ada, "/publier @LeQuotidien")
    assert told.startswith(
        f"📣 Publication dans Le Quotidien <Nord> (@LeQuotidien){NBSP}: le résumé de «{NBSP}Crise"
    )
    await agora.sent_out()
    posts = api.sent(chat_id=CHANNEL_ID)
    summary, polls = posts[0], [m["poll"] for m in posts[1:]]
    assert summary["text"].startswith("📰 Crise à la tête d’OpenAI")
    assert "Répondez aux questions ci-dessous" in summary["text"]
    [[_in_person, button]] = summary["reply_markup"]["inline_keyboard"]
    assert button == {
        "text": "📊 Résultats",
        "url": f"https://t.me/agora_test_bot?start=results_{CHANNEL_ID}",
    }
    assert len(polls) == 6
    assert all(poll["is_anonymous"] for poll in polls)

    [again] = await agora.command(private, ada, "/publier @lequotidien")
    assert again["text"].startswith("Les sondages de «")
    assert "sont déjà publiés dans Le Quotidien <Nord>" in again["text"]
    await agora.sent_out()
    assert len(api.sent(chat_id=CHANNEL_ID)) == 7

    # Readers vote in the channel: Telegram tells the totals (anonymous polls).
    for index in range(5):
        last = api.vote(polls[0]["id"], api.user(500 + index, f"R{index}"), [index % 2])
    await agora.handled(last)
    [results] = await agora.command(api.private_chat(bob), bob, "/resultats @LeQuotidien")
    assert results["text"].startswith("📊 Résultats — Crise à la tête d’OpenAI")
    assert (
        f"Canal Le Quotidien <Nord>{NBSP}: votes anonymes · répondants identifiés{NBSP}: 0"
        in results["text"]
    )
    assert f"Ce canal{NBSP}: 5 votants" in results["text"]
    # The same from the summary's button: /start with the channel's payload, in private.
    [from_button] = await agora.command(
        api.private_chat(bob), bob, f"/start results_{CHANNEL_ID}"
    )
    assert from_button["text"] == results["text"]
    [nowhere] = await agora.command(api.private_chat(bob), bob, "/resultats @autre_canal")
    assert nowhere["text"] == (
        "Agora ne publie dans aucun canal de ce nom. Ses administrateurs peuvent le relier "
        "avec /canal @nom."
    )
    [forged] = await agora.command(api.private_chat(bob), bob, "/start results_-100999999")
    assert forged["text"] == nowhere["text"]


async def test_removed_from_a_channel_it_goes_quiet_and_says_so(
    agora: Agora, api: FakeBotAPI
) -> None:
    channel, ada, _bob = newsroom(api)
    private = api.private_chat(ada)
    await agora.command(private, ada, "/canal @LeQuotidien")
    await agora.handled(api.my_chat_member(channel, ada, "administrator", "left"))
    stored = await stored_channel(agora)
    assert stored is not None
    assert not stored.active
    [listed] = await agora.command(private, ada, "/canal")
    assert "⚠️ Je ne peux plus y publier" in listed["text"]
    [refused] = await agora.command(private, ada, "/publier @LeQuotidien")
    assert refused["text"].startswith("Je ne suis pas administrateur du canal Le Quotidien <Nord>")
    await agora.sent_out()
    assert api.sent(chat_id=CHANNEL_ID) == []

    # Back as an administrator: publishing works again, and the channel is active.
    await agora.handled(api.my_chat_member(channel, ada, "left", "administrator"))
    await in_private(agora, api, ada, "/publier @LeQuotidien")
    await agora.sent_out()
    assert len(api.sent(chat_id=CHANNEL_ID)) == 7
    stored = await stored_channel(agora)
    assert stored is not None
    assert stored.active


async def test_in_english_for_an_english_speaking_administrator(
    agora: Agora, api: FakeBotAPI
) -> None:
    channel = api.group(CHANNEL_ID, "Daily", "channel", username="daily_news")
    ann = api.user(30, "Ann", language_code="en")
    api.set_admin(CHANNEL_ID, ann)
    api.set_admin(CHANNEL_ID, api.bot_user, "administrator")
    private = api.private_chat(ann)
    [linked] = await agora.command(private, ann, "/channel @daily_news")
    assert linked["text"].startswith(
        "✅ Daily (@daily_news) is linked to Agora. Nothing is posted there until you ask:"
    )
    await in_private(agora, api, ann, "/publish @daily_news")
    await agora.sent_out()
    summary = api.sent(chat_id=CHANNEL_ID)[0]
    assert "Answer the questions below: the polls are anonymous." in summary["text"]
    [results] = await agora.command(private, ann, "/results @daily_news")
    assert "Channel Daily: anonymous votes · identified respondents: 0" in results["text"]
    del channel


async def test_a_channels_settings_are_changed_from_private_by_its_administrators_only(
    agora: Agora, api: FakeBotAPI
) -> None:
    _channel, ada, bob = newsroom(api)
    await agora.command(api.private_chat(ada), ada, "/canal @LeQuotidien")
    await in_private(agora, api, ada, "/publier @LeQuotidien")
    await agora.sent_out()
    polls = [m["poll"] for m in api.sent(chat_id=CHANNEL_ID, method="sendPoll")]
    await agora.handled(api.vote(polls[0]["id"], api.user(501, "R"), [1]))

    for text in ("/bilan @LeQuotidien 18:30", "/langue @LeQuotidien en", "/exporter @LeQuotidien"):
        refused = await in_private(agora, api, bob, text)
        assert refused == (
            f"Seuls les administrateurs de ce canal peuvent le faire{NBSP}: Telegram ne vous "
            "compte pas parmi eux."
        )
    stored = await stored_channel(agora)
    assert stored is not None
    assert (stored.digest_enabled, stored.language) == (False, "fr")

    status = await in_private(agora, api, ada, "/bilan @LeQuotidien 18:30")
    assert status.startswith(
        f"Bilan quotidien{NBSP}: activé, chaque jour à 18:30 (Europe/Paris)."
    )
    zone = await in_private(agora, api, ada, "/fuseau @LeQuotidien America/Montreal")
    assert "America/Montreal" in zone
    told = await in_private(agora, api, ada, "/langue @LeQuotidien en")
    assert told == "Désormais, je publie dans Le Quotidien <Nord> en anglais."
    stored = await stored_channel(agora)
    assert stored is not None
    assert (stored.digest_enabled, stored.digest_time, stored.timezone, stored.language) == (
        True, "18:30", "America/Montreal", "en"
    )

    # The export goes to the administrator, never to the channel.
    await agora.command(api.private_chat(ada), ada, "/exporter @LeQuotidien")
    await agora.sent_out()
    [document] = api.sent(method="sendDocument")
    assert document["chat"]["id"] == ada["id"]

    # A digest now: in the channel, in its language, its chart saying whose results they are.
    before = len(api.sent(chat_id=CHANNEL_ID))
    sent = await agora.command(api.private_chat(ada), ada, "/bilan @LeQuotidien maintenant")
    assert [m["text"] for m in sent if m["chat"]["id"] == ada["id"]] == [
        "Le bilan part vers Le Quotidien <Nord>."
    ]
    await agora.sent_out()
    digest = api.sent(chat_id=CHANNEL_ID)[before:]
    assert digest[0]["text"].startswith("🗞 Digest of ")
    assert "This channel: 1 voter" in digest[0]["text"]
    [photo] = [m for m in digest if "photo" in m]
    assert photo["caption"].startswith("Results of this channel on ")
    assert api.sent(chat_id=bob["id"], method="sendDocument") == []


async def test_readers_answer_in_person_and_count_once_as_identified_respondents(
    agora: Agora, api: FakeBotAPI
) -> None:
    _channel, ada, bob = newsroom(api)
    other = api.group(-1001600, "Autre", "channel", username="autre_canal")
    api.set_admin(other["id"], ada)
    api.set_admin(other["id"], api.bot_user, "administrator")
    for name in ("@LeQuotidien", "@autre_canal"):
        await agora.command(api.private_chat(ada), ada, f"/canal {name}")
        await in_private(agora, api, ada, f"/publier {name}")
    await agora.sent_out()
    summary = api.sent(chat_id=CHANNEL_ID)[0]
    [[in_person, _results]] = summary["reply_markup"]["inline_keyboard"]
    assert in_person == {
        "text": "🙋 Répondre en personne",
        "url": f"https://t.me/agora_test_bot?start=answer_{CHANNEL_ID}",
    }
    channel_polls = [m["poll"] for m in api.sent(chat_id=CHANNEL_ID, method="sendPoll")]
    for index in range(3):
        api.vote(channel_polls[0]["id"], api.user(700 + index, f"A{index}"), [0])

    carl, dan = api.user(40, "Carl", language_code="fr"), api.user(41, "Dan", language_code="fr")
    private_polls = {}
    for person, choice in ((carl, 0), (dan, 1)):
        sent = await agora.command(api.private_chat(person), person, f"/start answer_{CHANNEL_ID}")
        await agora.sent_out()
        assert sent[0]["text"].startswith(
            f"🙋 Vous répondez à «{NBSP}Crise à la tête d’OpenAI"
        )
        polls = [m["poll"] for m in api.sent(chat_id=person["id"], method="sendPoll")]
        assert len(polls) == 6
        assert not any(poll["is_anonymous"] for poll in polls)
        private_polls[person["id"]] = polls
        await agora.handled(api.vote(polls[0]["id"], person, [choice]))

    results = await in_private(agora, api, bob, "/resultats @LeQuotidien")
    assert (
        f"Canal Le Quotidien <Nord>{NBSP}: votes anonymes · répondants identifiés{NBSP}: 2"
        in results
    )
    assert f"Ce canal{NBSP}: 3 votants" in results
    assert "🙋 Répondants identifiés\n2 personnes ont répondu en personne" in results
    assert f"En personne{NBSP}: 2 votants" in results
    # The channel's digest says both too.
    before = len(api.sent(chat_id=CHANNEL_ID))
    await in_private(agora, api, ada, "/bilan @LeQuotidien maintenant")
    await agora.sent_out()
    [digest, *_] = api.sent(chat_id=CHANNEL_ID)[before:]
    assert digest["text"].startswith("🗞 Bilan du ")
    assert (
        f"Canal Le Quotidien <Nord>{NBSP}: votes anonymes · répondants identifiés{NBSP}: 2"
        in digest["text"]
    )

    # Crossing questions and opinion groups: on the identified respondents' named answers.
    for person, choice in ((carl, 0), (dan, 1)):
        await agora.handled(api.vote(private_polls[person["id"]][1]["id"], person, [choice]))
    crossed = await in_private(agora, api, bob, "/croiser @LeQuotidien 1 2")
    assert "anonyme" not in crossed
    assert crossed.startswith("📐 ")
    groups = await in_private(agora, api, bob, "/groupes @LeQuotidien")
    assert "parmi les répondants identifiés du canal" in groups

    # Carl follows the other channel's link: his answers move there, counted once.
    [moved] = await agora.command(api.private_chat(carl), carl, "/start answer_-1001600")
    assert moved["text"].startswith(
        f"Vos réponses à «{NBSP}Crise à la tête d’OpenAI"
    )
    assert moved["reply_to_message"]["poll"]["id"] == private_polls[carl["id"]][0]["id"]
    await agora.sent_out()
    assert len(api.sent(chat_id=carl["id"], method="sendPoll")) == 6  # no second set
    here = await in_private(agora, api, bob, "/resultats @LeQuotidien")
    assert f"répondants identifiés{NBSP}: 1" in here
    there = await in_private(agora, api, bob, "/resultats @autre_canal")
    assert f"répondants identifiés{NBSP}: 1" in there

    # /oublier takes the answers given in person too.
    [question] = await agora.command(api.private_chat(dan), dan, "/oublier")
    yes, _no = question["reply_markup"]["inline_keyboard"][0]
    await agora.handled(
        api.callback_query(api.private_chat(dan), dan, question["message_id"], yes["callback_data"])
    )
    here = await in_private(agora, api, bob, "/resultats @LeQuotidien")
    assert f"répondants identifiés{NBSP}: 0" in here
    assert "🙋 Répondants identifiés" not in here


async def test_replies_in_the_discussion_group_are_opinions_shown_in_the_channels_digest(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    channel, ada, bob = newsroom(api)
    group = api.group(-1001700, "Le Quotidien — discussion")
    api.link_discussion(CHANNEL_ID, group["id"])
    await agora.handled(api.my_chat_member(group, ada, "left", "member"))
    linked = await in_private(agora, api, ada, "/canal @LeQuotidien")
    assert linked.endswith(
        "💬 Pour recueillir comme avis les commentaires du groupe de discussion du canal, "
        "ajoutez-moi à ce groupe comme administrateur (aucun droit particulier n’est "
        f"nécessaire){NBSP}: sinon, Telegram ne me montre que les réponses à mes propres "
        "messages."
    )
    await in_private(agora, api, ada, "/publier @LeQuotidien")
    await agora.sent_out()
    summary_id = api.sent(chat_id=CHANNEL_ID)[0]["message_id"]
    assert api.comment(CHANNEL_ID, summary_id, api.user(60, "Lou"), "Invisible") is None

    # Made an administrator of the group, the bot sees the replies to Telegram's copies.
    await agora.handled(api.my_chat_member(group, ada, "member", "administrator"))
    linked = await in_private(agora, api, ada, "/canal @LeQuotidien")
    assert linked.endswith(
        "💬 Dans le groupe de discussion du canal, une réponse au résumé ou à un sondage est "
        "un avis sur celui-ci, repris dans le bilan du canal."
    )
    poll_post = api.sent(chat_id=CHANNEL_ID, method="sendPoll")[0]["message_id"]
    lou, max_ = api.user(60, "Lou"), api.user(61, "Max")
    first = api.comment(CHANNEL_ID, summary_id, lou, "La gouvernance a failli, clairement.")
    second = api.comment(CHANNEL_ID, poll_post, max_, "Une lutte de pouvoir avant tout.")
    assert first is not None
    assert second is not None
    await agora.handled(second)
    await agora.sent_out()
    reactions = [c for c in api.calls_of("setMessageReaction") if c["chat_id"] == group["id"]]
    assert len(reactions) == 2
    [listed] = await agora.command(group, lou, "/opinions")
    assert "La gouvernance a failli, clairement." in listed["text"]

    before = len(api.sent(chat_id=CHANNEL_ID))
    await in_private(agora, api, ada, "/bilan @LeQuotidien maintenant")
    await agora.sent_out()
    digest = "\n".join(m.get("text", "") for m in api.sent(chat_id=CHANNEL_ID)[before:])
    assert "La gouvernance a failli, clairement." in digest
    assert "Une lutte de pouvoir avant tout." in digest

    # /opinions @nom, in private: the discussion group's opinions, page by page.
    for index in range(12):
        text = f"Commentaire {index} : " + "la gouvernance compte plus que tout. " * 10
        last = api.comment(CHANNEL_ID, poll_post, api.user(100 + index, f"L{index}"), text)
        assert last is not None
    await agora.handled(last)
    await agora.sent_out()
    private = api.private_chat(bob)
    [first_page] = await agora.command(private, bob, "/opinions @LeQuotidien")
    assert first_page["text"].startswith("💬 Avis — Crise à la tête d’OpenAI")
    assert "Commentaire 11" in first_page["text"]
    [pages, [rate_here]] = first_page["reply_markup"]["inline_keyboard"]
    assert rate_here["url"].startswith("https://t.me/agora_test_bot?start=rate_-1001700_")
    [older] = pages
    assert older["text"] == "Plus anciens ▶"
    await agora.handled(
        api.callback_query(private, bob, first_page["message_id"], older["callback_data"])
    )
    await agora.sent_out()
    [edit] = api.calls_of("editMessageText")[-1:]
    assert "(page 2)" in edit["text"]
    assert "Une lutte de pouvoir avant tout." in edit["text"]  # the oldest on question 1

    # The digest can go to the discussion group instead, with the button to rate there.
    status = await in_private(agora, api, ada, "/bilan @LeQuotidien groupe")
    assert "Il part dans le groupe de discussion du canal." in status
    clock.set("2026-11-26 09:00")  # past the ten minutes between two digests on demand
    before_channel, before_group = len(api.sent(chat_id=CHANNEL_ID)), len(api.sent(group["id"]))
    await in_private(agora, api, ada, "/bilan @LeQuotidien maintenant")
    await agora.sent_out()
    assert len(api.sent(chat_id=CHANNEL_ID)) == before_channel
    in_group = api.sent(chat_id=group["id"])[before_group:]
    assert in_group[0]["text"].startswith("🗞 Bilan du")
    [keyboard] = [m["reply_markup"] for m in in_group if "reply_markup" in m]
    [[rate]] = keyboard["inline_keyboard"]
    assert rate["url"].startswith("https://t.me/agora_test_bot?start=rate_-1001700_")
    status = await in_private(agora, api, ada, "/bilan @LeQuotidien canal")
    assert "Il part dans le canal." in status
    del channel


async def test_a_channel_in_auto_publishes_each_new_article_as_it_appears(
    agora: Agora, api: FakeBotAPI, articles_dir: Path
) -> None:
    _channel, ada, _bob = newsroom(api)
    await agora.command(api.private_chat(ada), ada, "/canal @LeQuotidien")
    [bad] = [
        m["text"]
        for m in await agora.command(api.private_chat(ada), ada, "/publier @LeQuotidien bof")
    ]
    assert bad == (
        "Je ne comprends pas «\u00a0bof\u00a0». Utilisez /publier @nom, /publier @nom auto ou "
        "/publier @nom manuel."
    )
    told = await in_private(agora, api, ada, "/publier @LeQuotidien auto")
    assert told.startswith(
        "Désormais, chaque nouvel article est publié dans Le Quotidien <Nord> (@LeQuotidien) "
        "dès sa parution"
    )
    assert "📣 Publication dans" in told  # and the current article, not yet published
    await agora.sent_out()
    assert len(api.sent(chat_id=CHANNEL_ID)) == 7
    stored = await stored_channel(agora)
    assert stored is not None
    assert stored.publish_auto

    write_article(articles_dir, "next", "next-news", source_date="2026-11-26", title_fr="L’après")
    await reload(agora)
    posts = api.sent(chat_id=CHANNEL_ID)[7:]
    assert posts[0]["text"].startswith("📰 L’après")
    assert [m["poll"]["is_anonymous"] for m in posts[1:]] == [True] * (len(posts) - 1)
    assert len(posts) > 1

    told = await in_private(agora, api, ada, "/publier @LeQuotidien manuel")
    assert told.startswith("Les nouveaux articles ne sont plus publiés dans Le Quotidien")
    before = len(api.sent(chat_id=CHANNEL_ID))
    write_article(articles_dir, "third", "third-news", source_date="2026-11-27", title_fr="Suite")
    await reload(agora)
    assert len(api.sent(chat_id=CHANNEL_ID)) == before  # nothing the administrator did not ask


async def test_closing_a_channels_polls_closes_those_answered_in_person_too(
    agora: Agora, api: FakeBotAPI
) -> None:
    _channel, ada, bob = newsroom(api)
    await agora.command(api.private_chat(ada), ada, "/canal @LeQuotidien")
    await in_private(agora, api, ada, "/publier @LeQuotidien")
    carl = api.user(40, "Carl", language_code="fr")
    await agora.command(api.private_chat(carl), carl, f"/start answer_{CHANNEL_ID}")
    await agora.sent_out()
    [mine, *_] = [m["poll"] for m in api.sent(chat_id=carl["id"], method="sendPoll")]
    await agora.handled(api.vote(mine["id"], carl, [2]))
    [in_channel, *_] = [m["poll"] for m in api.sent(chat_id=CHANNEL_ID, method="sendPoll")]
    await agora.handled(api.vote(in_channel["id"], api.user(700, "A"), [0]))

    refused = await in_private(agora, api, bob, "/cloturer @LeQuotidien")
    assert refused.startswith("Seuls les administrateurs de ce canal peuvent le faire")
    assert api.calls_of("stopPoll") == []
    told = await in_private(agora, api, ada, "/cloturer @LeQuotidien")
    assert told == (
        f"Les sondages de «{NBSP}Crise à la tête d’OpenAI{NBSP}: le limogeage de Sam Altman sème "
        "le chaos\u00a0» sont clos, dans le canal et en privé\u202f; les résultats définitifs "
        "partent vers Le Quotidien <Nord>."
    )
    await agora.sent_out()
    stopped = {c["chat_id"] for c in api.calls_of("stopPoll")}
    assert stopped == {CHANNEL_ID, carl["id"]}
    assert len(api.calls_of("stopPoll")) == 12
    final = [m for m in api.sent(chat_id=CHANNEL_ID) if m.get("text", "").startswith("🏁")]
    assert len(final) == 1
    texts = [m.get("text", "") for m in api.sent(chat_id=CHANNEL_ID)]
    after = "\n".join(texts[texts.index(final[0]["text"]):])
    assert f"Ce canal{NBSP}: 1 votant" in after  # the channel's own (anonymous) figures
    assert "Ce groupe" not in after
    again = await in_private(agora, api, ada, "/cloturer @LeQuotidien")
    assert again == (
        "Les sondages sont déjà clos dans le canal Le Quotidien <Nord>. Résultats"
        f"{NBSP}: /resultats @LeQuotidien"
    )
    results = await in_private(agora, api, bob, "/resultats @LeQuotidien")
    assert f"répondants identifiés{NBSP}: 1" in results
