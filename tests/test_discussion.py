"""Opinions end to end: replies, /opinion, limits, listing, moderation, export, forget-me."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.discussion import export
from storage.models import Opinion
from tests.support.botapi import FakeBotAPI, utf16_len
from tests.support.fuzz.world import fresh_world
from tests.support.harness import Agora, totals_match_tallies

pytestmark = pytest.mark.floors

NBSP, NNBSP = "\u00a0", "\u202f"


async def polls_in(agora: Agora, api: FakeBotAPI, group: dict, admin: dict) -> list[dict]:
    sent = await agora.command(group, admin, "/sondage")
    return [m for m in sent if "poll" in m]


async def opinions(agora: Agora) -> list[Opinion]:
    async with AsyncSession(agora.engine) as session:
        return list(await session.scalars(select(Opinion).order_by(Opinion.id)))


def admin_group(api: FakeBotAPI, chat_id: int = -100700) -> tuple[dict, dict]:
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    return group, admin


async def test_reply_to_a_poll_is_an_opinion_acknowledged_by_a_reaction(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin = admin_group(api)
    polls = await polls_in(agora, api, group, admin)
    max_ = api.user(11, "Max <b>")
    text = "Une crise de gouvernance 🤯, pas un complot. עברית"
    sent = await agora.command(group, max_, text, reply_to_message_id=polls[1]["message_id"])
    assert sent == []  # no new message: a reaction instead
    message_id = api.last_message_id(group["id"])
    assert api.reactions[(group["id"], message_id)] == [{"type": "emoji", "emoji": "👍"}]
    [stored] = await opinions(agora)
    assert (stored.question_key, stored.text, stored.author) == ("firing", text, "Max <b>")

    # The summary too: an opinion on the whole article.
    [summary] = await agora.command(group, max_, "/resume")
    await agora.command(group, max_, "Bien résumé", reply_to_message_id=summary["message_id"])
    assert (await opinions(agora))[-1].question_key is None

    # A reply to another bot message is not an opinion.
    [help_text] = await agora.command(group, max_, "/aide")
    assert (
        await agora.command(group, max_, "Merci", reply_to_message_id=help_text["message_id"]) == []
    )
    assert len(await opinions(agora)) == 2


async def test_reaction_refused_falls_back_to_a_reply(agora: Agora, api: FakeBotAPI) -> None:
    bob = api.user(12, "Bob", language_code="en")
    chat = api.private_chat(bob)
    api.fail_next("setMessageReaction", 400, "Bad Request: REACTION_INVALID")
    [thanks] = await agora.command(chat, bob, "/opinion The board acted too fast.")
    assert thanks["text"] == "Thank you, your opinion is recorded."
    [stored] = await opinions(agora)
    assert stored.text == "The board acted too fast."


async def test_limits_in_both_languages(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(13, "Alice", language_code="fr")
    bob = api.user(12, "Bob", language_code="en")
    [short] = await agora.command(api.private_chat(alice), alice, "/avis ok")
    assert short["text"] == "Un avis doit compter au moins 3 caractères."
    [long] = await agora.command(api.private_chat(bob), bob, "/opinion " + "word " * 300)
    assert long["text"] == (
        "An opinion is limited to 1000 characters (yours has 1499). Please shorten it."
    )
    assert await opinions(agora) == []

    chat = api.private_chat(alice)
    for n in range(5):
        assert await agora.command(chat, alice, f"/avis Avis numéro {n}") == []
    [wait] = await agora.command(chat, alice, "/avis Un de trop")
    assert re.fullmatch(
        r"Vous avez donné 5 avis ces 10 dernières minutes\. Vous pourrez en publier un autre "
        r"à \d\d:\d\d\.",
        wait["text"],
    )
    assert len(await opinions(agora)) == 5


async def test_listing_is_grouped_paginated_and_escaped(agora: Agora, api: FakeBotAPI) -> None:
    group, admin = admin_group(api)
    polls = await polls_in(agora, api, group, admin)
    padding = " " + "développé " * 60  # 9 opinions of 600 characters need two pages
    for n in range(8):
        author = api.user(100 + n, f"<i>Auteur{n}</i>")
        target = polls[n % 2]["message_id"]
        await agora.command(
            group, author, f"Opinion {n} & co{padding}", reply_to_message_id=target
        )
    await agora.command(group, api.user(200, "Zoé"), "/avis Sur l'article entier")
    [page1] = await agora.command(group, admin, "/avis")
    assert page1["text"].startswith("💬 Avis — Crise à la tête d’OpenAI")
    assert "(page 1)" in page1["text"]
    lines = page1["text"].splitlines()
    assert lines[2] == "Sur l’article"  # article-level opinions come first
    assert lines.index("1. Quel est votre avis sur le sujet\u202f?") < lines.index(
        "2. Que pensez-vous du licenciement surprise de Sam Altman d’OpenAI\u202f?"
    )
    assert "<i>Auteur6</i>" in page1["text"]  # shown as text, not markup
    assert "Opinion 6 & co" in page1["text"]
    assert api.calls_of("sendMessage")[-1]["parse_mode"] == "HTML"
    [button] = page1["reply_markup"]["inline_keyboard"][0]
    assert button["text"] == "Plus anciens ▶"
    assert len(button["callback_data"].encode()) <= 64

    await agora.settle(
        api.callback_query(group, admin, page1["message_id"], button["callback_data"])
    )
    edited = api.messages[(group["id"], page1["message_id"])]  # as the members now see it
    assert "(page 2)" in edited["text"]
    assert "Opinion 1 & co" in edited["text"]
    assert [b["text"] for b in edited["reply_markup"]["inline_keyboard"][0]] == ["◀ Plus récents"]

    # Forged or outdated buttons answer politely and change nothing.
    edits = len(api.calls_of("editMessageText"))
    forged = ("ops:openai-board-2023-11:9", "ops:other-article:0", "ops:x", "ops:a:b")
    forged += ("ops:o99999:1", "ops:n1:x")  # an opinion that is not there; not a page
    for data in forged:
        await agora.settle(api.callback_query(group, admin, page1["message_id"], data))
        assert api.calls_of("answerCallbackQuery")[-1]["text"] == "Ce bouton n’est plus valable."
    assert len(api.calls_of("editMessageText")) == edits


async def test_listing_in_english_without_opinions(agora: Agora, api: FakeBotAPI) -> None:
    bob = api.user(12, "Bob", language_code="en")
    [empty] = await agora.command(api.private_chat(bob), bob, "/opinions")
    assert empty["text"].endswith(
        "No opinion yet. Reply to a poll or to the summary, or write /opinion followed by your "
        "text."
    )


async def test_edits_update_the_opinion(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(13, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    await agora.command(chat, alice, "/avis Première version")
    message_id = api.last_message_id(chat["id"])
    await agora.command(chat, alice, "/avis Version corrigée", edit=True, message_id=message_id)
    [stored] = await opinions(agora)
    assert stored.text == "Version corrigée"
    assert stored.edited_at is not None
    # Editing a command that is not an opinion runs nothing again.
    await agora.command(chat, alice, "/aide")
    help_id = api.last_message_id(chat["id"]) - 1  # the command, before the bot's answer
    assert await agora.command(chat, alice, "/aide", edit=True, message_id=help_id) == []


async def test_moderation_rights(agora: Agora, api: FakeBotAPI) -> None:
    group, admin = admin_group(api)
    polls = await polls_in(agora, api, group, admin)
    author, other = api.user(20, "Léa"), api.user(21, "Tom")
    await agora.command(group, author, "Mon avis à moi", reply_to_message_id=polls[0]["message_id"])
    opinion_message = api.last_message_id(group["id"])
    await agora.command(group, author, "Un second avis", reply_to_message_id=polls[0]["message_id"])
    second_message = api.last_message_id(group["id"])

    [refused] = await agora.command(group, other, "/supprimer", reply_to_message_id=opinion_message)
    assert refused["text"] == (
        "Seuls les administrateurs du groupe et l’auteur de l’avis peuvent le supprimer."
    )
    assert len(await opinions(agora)) == 2
    first, second = await opinions(agora)
    [own] = await agora.command(group, author, "/supprimer", reply_to_message_id=opinion_message)
    assert own["text"] == f"Avis n°{NBSP}{first.id} supprimé."
    [by_admin] = await agora.command(group, admin, f"/delete {second.id}")
    assert by_admin["text"] == f"Avis n°{NBSP}{second.id} supprimé."
    assert await opinions(agora) == []
    [nothing] = await agora.command(group, admin, "/supprimer", reply_to_message_id=second_message)
    assert nothing["text"].startswith("Répondez avec /supprimer à l’avis à supprimer")


async def test_export_is_a_spreadsheet_friendly_csv(agora: Agora, api: FakeBotAPI) -> None:
    group, admin = admin_group(api)
    polls = await polls_in(agora, api, group, admin)
    await agora.vote(polls[0]["poll"]["id"], api.user(30, "Émile"), [0])
    await agora.vote(polls[2]["poll"]["id"], api.user(31, "Inès"), [1, 3])
    await agora.command(
        group,
        api.user(31, "Inès"),
        "C'est « grave », vraiment; oui",
        reply_to_message_id=polls[2]["message_id"],
    )
    [refused] = await agora.command(group, api.user(32, "Max"), "/exporter")
    assert refused["text"].startswith("Seuls les administrateurs")

    [document] = await agora.command(group, admin, "/exporter")
    assert document["document"]["file_name"].startswith("agora-openai-board-2023-11-")
    data = api.calls_of("sendDocument")[-1]["document"]
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so spreadsheets read the accents
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "type",
        "numéro",
        "question",
        "option",
        "votes",
        "votants",
        "auteur",
        "date",
        "texte",
        "tour",
        "d’accord",
        "pas d’accord",
        "sans avis",
    ]
    results = [r for r in rows if r[0] == "résultat"]
    assert len(results) == 5 + 5 + 9 + 5 + 4 + 8  # one row per option of each question
    assert [
        "résultat",
        "1",
        "Quel est votre avis sur le sujet\u202f?",
        "Une crise de gouvernance inquiétante",
        "1",
        "1",
        "",
        "",
        "",
        "1",
        "",
        "",
        "",
    ] in rows
    [answer] = [r for r in rows if r[0] == "réponse" and r[6] == "Inès"]
    assert (
        answer[3]
        == (
            "Perte de confiance des investisseurs et des partenaires | Retards dans le lancement "
            "des produits"
        )
    )
    assert answer[9] == "1"  # the round it belongs to
    [opinion] = [r for r in rows if r[0] == "avis"]
    assert opinion[8] == "C'est « grave », vraiment; oui"
    assert opinion[9:] == ["", "0", "0", "0"]  # no round; its ratings, counted
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", opinion[7])


async def test_export_of_anonymous_polls_has_counts_only(agora: Agora, api: FakeBotAPI) -> None:
    bob = api.user(12, "Bob", language_code="en")
    chat = api.private_chat(bob)
    sent = await agora.command(chat, bob, "/poll anonymous")
    poll = next(m for m in sent if "poll" in m)
    await agora.vote(poll["poll"]["id"], api.user(40, "Anon"), [2])
    [_document] = await agora.command(chat, bob, "/export")
    rows = list(
        csv.reader(io.StringIO(api.calls_of("sendDocument")[-1]["document"].decode("utf-8-sig")))
    )
    assert rows[0][0] == "type"
    assert [
        "result",
        "1",
        "What is your view on the matter?",
        "Above all a power struggle",
        "1",
        "1",
        "",
        "",
        "",
        "1",
        "",
        "",
        "",
    ] in rows
    assert [r for r in rows if r[0] == "answer"] == []


async def test_forget_me_across_two_chats(agora: Agora, api: FakeBotAPI) -> None:
    first, admin = admin_group(api, -100710)
    second, _ = admin_group(api, -100711)
    polls_first = await polls_in(agora, api, first, admin)
    polls_second = await polls_in(agora, api, second, admin)
    zoe, other = api.user(50, "Zoé"), api.user(51, "Paul")
    await agora.vote(polls_first[0]["poll"]["id"], zoe, [0])
    await agora.vote(polls_second[0]["poll"]["id"], zoe, [1])
    await agora.vote(polls_second[0]["poll"]["id"], other, [1])
    await agora.command(first, zoe, "Mon avis", reply_to_message_id=polls_first[0]["message_id"])
    await agora.command(
        second, other, "L'avis de Paul", reply_to_message_id=polls_second[0]["message_id"]
    )

    private = api.private_chat(zoe)
    [question] = await agora.command(private, zoe, "/oublier")
    assert "sans retour possible. Voulez-vous continuer, Zoé\u202f?" in question["text"]
    yes, no = question["reply_markup"]["inline_keyboard"][0]
    # Someone else pressing the button changes nothing.
    await agora.settle(
        api.callback_query(private, other, question["message_id"], yes["callback_data"])
    )
    assert api.calls_of("answerCallbackQuery")[-1]["show_alert"] is True
    assert len(await opinions(agora)) == 2

    await agora.settle(
        api.callback_query(private, zoe, question["message_id"], yes["callback_data"])
    )
    assert (
        api.calls_of("editMessageText")[-1]["text"]
        == f"C’est fait{NBSP}: 2 votes et 1 avis supprimés."
    )
    assert [o.author for o in await opinions(agora)] == ["Paul"]
    assert await agora.tallies(polls_first[0]["poll"]["id"]) == {0: 0, 1: 0, 2: 0, 3: 0, 4: 0}
    assert await agora.tallies(polls_second[0]["poll"]["id"]) == {0: 0, 1: 1, 2: 0, 3: 0, 4: 0}
    results = "\n".join(m["text"] for m in await agora.command(second, admin, "/resultats"))
    assert f"Ce groupe{NBSP}: 1 votant" in results
    await totals_match_tallies(agora.engine)
    del no


async def test_redelivered_opinion_is_stored_once(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(13, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    update_id = api.send_text(chat, alice, "/avis Une seule fois")
    await agora.settle(update_id)
    api.redeliver([update_id])
    await agora.settle(update_id)
    await agora.command(chat, alice, "/aide")
    async with AsyncSession(agora.engine) as session:
        assert await session.scalar(select(func.count()).select_from(Opinion)) == 1


async def test_numbers_in_other_scripts_get_the_usage_not_an_error(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin = admin_group(api, chat_id=-100790)
    await agora.command(group, admin, "/avis Un avis à garder")
    [kept] = await opinions(agora)
    arabic_one, double_struck_one = "\u0661", "\U0001d7d9"
    for argument in ("²", f"#{kept.id}²", arabic_one, double_struck_one, "-1", "9" * 23):
        [answer] = await agora.command(group, admin, f"/supprimer {argument}")
        assert answer["text"].startswith("Répondez avec /supprimer à l’avis à supprimer")
    arabic_time = "\u0661\u0662:\u0663\u0660"  # 12:30 in Arabic-Indic digits
    [bad_time] = await agora.command(group, admin, f"/bilan {arabic_time}")
    assert bad_time["text"].startswith(f"Je n’ai pas compris «{NBSP}{arabic_time}{NBSP}»")
    assert [o.id for o in await opinions(agora)] == [kept.id]
    [removed] = await agora.command(group, admin, f"/supprimer #{kept.id}")
    assert removed["text"] == f"Avis n°{NBSP}{kept.id} supprimé."


async def test_channels_and_anonymous_admins_are_their_own_authors(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, _admin = admin_group(api, chat_id=-100791)
    news = {"id": -1001791, "type": "channel", "title": "Actu <Nord>"}
    sport = {"id": -1001792, "type": "channel", "title": "Sport"}
    for _ in range(5):  # the most one author may post in ten minutes
        await agora.command(group, None, "/avis La position de la rédaction", sender_chat=news)
    # Another channel is another author: not held back by the first one's limit.
    assert await agora.command(group, None, "/avis Notre avis", sender_chat=sport) == []
    [limited] = await agora.command(group, None, "/avis Encore un", sender_chat=news)
    assert limited["text"].startswith("Vous avez donné 5 avis ces 10 dernières minutes.")
    stored = await opinions(agora)
    assert [(o.user_id, o.author) for o in stored[-2:]] == [
        (news["id"], "Actu <Nord>"),
        (sport["id"], "Sport"),
    ]
    # One channel cannot remove another's opinion; it can remove its own.
    [refused] = await agora.command(group, None, f"/supprimer {stored[-1].id}", sender_chat=news)
    assert refused["text"].startswith("Seuls les administrateurs du groupe et l’auteur de l’avis")
    [own] = await agora.command(group, None, f"/supprimer {stored[-1].id}", sender_chat=sport)
    assert own["text"] == f"Avis n°{NBSP}{stored[-1].id} supprimé."
    # An anonymous administrator writes as the group, and may moderate.
    await agora.command(group, None, "/avis Avis de la modération", sender_chat=group)
    assert (await opinions(agora))[-1].author == "Débat"
    [removed] = await agora.command(group, None, f"/supprimer {stored[0].id}", sender_chat=group)
    assert removed["text"] == f"Avis n°{NBSP}{stored[0].id} supprimé."


def listed_ids(text: str) -> list[int]:
    """The opinion numbers a listing page shows, from its "#12 · author, date" lines."""
    return [int(found) for found in re.findall(r"^n°\xa0(\d+) · ", text, flags=re.M)]


async def test_listing_pages_fit_telegram_limit_whatever_the_opinions(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin = admin_group(api, chat_id=-100792)
    polls = await polls_in(agora, api, group, admin)
    for n in range(14):
        # 1,000 characters: 1,333 UTF-16 units (an emoji counts two), 3,300 of HTML escaped.
        text = (f"Avis {n} " + "😀<&" * 400)[:1000]
        author = api.user(300 + n, "🦄" * 30 + f" <&> {n}")
        if n % 4 == 0:
            await agora.command(group, author, f"/avis {text}")
        else:
            await agora.command(group, author, text, reply_to_message_id=polls[n % 3]["message_id"])
    stored = {o.id for o in await opinions(agora)}
    assert len(stored) == 14

    [first] = await agora.command(group, admin, "/avis")
    message_id, pages, buttons = first["message_id"], [first["text"]], []
    markup = first.get("reply_markup")
    while markup is not None and markup["inline_keyboard"][0][-1]["text"] == "Plus anciens ▶":
        older = markup["inline_keyboard"][0][-1]["callback_data"]
        buttons.append(older)
        await agora.settle(api.callback_query(group, admin, message_id, older))
        edited = api.messages[(group["id"], message_id)]  # a refused edit leaves the old page
        pages.append(edited["text"])
        markup = edited.get("reply_markup")
    count = len(pages)
    assert count >= 5  # about three such opinions fit in a message
    for number, page in enumerate(pages, 1):
        assert f"(page {number})" in page
        assert utf16_len(page) <= 4096  # as Telegram counts: entities parsed, emoji twice
        assert page.splitlines().count("Sur l’article") <= 1  # a group's title, once a page
    assert listed_ids(pages[0])[:2] == sorted(listed_ids(pages[0])[:2], reverse=True)
    assert pages[0].splitlines()[2] == "Sur l’article"  # its two opinions under one title
    shown = [found for page in pages for found in listed_ids(page)]
    assert sorted(shown) == sorted(stored)  # every opinion, exactly once

    # The same button shows the same opinions again; one past the end is answered politely.
    await agora.settle(api.callback_query(group, admin, message_id, buttons[0]))
    assert listed_ids(api.messages[(group["id"], message_id)]["text"]) == listed_ids(pages[1])
    stale = f"ops:o{listed_ids(pages[-1])[-1]}:{count}"  # older than the very last opinion
    edits = len(api.calls_of("editMessageText"))
    await agora.settle(api.callback_query(group, admin, message_id, stale))
    assert api.calls_of("answerCallbackQuery")[-1]["text"] == "Ce bouton n’est plus valable."
    assert len(api.calls_of("editMessageText")) == edits


def exported_rows(api: FakeBotAPI, delimiter: str = ";") -> list[list[str]]:
    data = api.calls_of("sendDocument")[-1]["document"]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


async def test_export_cells_never_become_formulas(agora: Agora, api: FakeBotAPI) -> None:
    group, admin = admin_group(api, chat_id=-100793)
    polls = await polls_in(agora, api, group, admin)
    names = ['=HYPERLINK("http://x.example";"clic")', "+33 6 12", "-2+3", "@SUM(A1)", "\tTab"]
    names += ["\r=1+1", "Léa = 1 + 1", "'déjà cité"]
    for n, name in enumerate(names):
        await agora.vote(polls[0]["poll"]["id"], api.user(60 + n, name), [0])
    said = [
        ("=cmd|' /C calc'!A0", "=1+1 et voilà"),
        ("Zoé", "-moins; et + encore"),
        ("Paul", "@tous : débattons"),
        ("Inès", "Rien à signaler = ok"),
    ]
    for n, (author, text) in enumerate(said):
        await agora.command(
            group, api.user(70 + n, author), text, reply_to_message_id=polls[1]["message_id"]
        )
    await agora.command(group, admin, "/exporter")
    rows = exported_rows(api)
    formula = ("=", "+", "-", "@", "\t", "\r")
    assert sorted(r[6] for r in rows if r[0] == "réponse") == sorted(
        "'" + name if name.startswith(formula) else name for name in names
    )
    assert [(r[6], r[8]) for r in rows if r[0] == "avis"] == [
        ("'=cmd|' /C calc'!A0", "'=1+1 et voilà"),
        ("Zoé", "'-moins; et + encore"),
        ("Paul", "'@tous : débattons"),
        ("Inès", "Rien à signaler = ok"),  # only the first character matters
    ]
    assert not any(cell.startswith(formula) for row in rows for cell in row)


async def test_export_is_capped_and_says_what_it_leaves_out(
    agora: Agora, api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = export.NOTE_ROOM + 8000  # the results (36 rows) and some of the 40 answers
    monkeypatch.setattr(export, "LIMIT", limit)
    group, admin = admin_group(api, chat_id=-100794)
    polls = await polls_in(agora, api, group, admin)
    for n in range(40):
        await agora.vote(polls[1]["poll"]["id"], api.user(400 + n, f"Votant {n}"), [n % 3])
    for n in range(3):
        await agora.command(
            group, api.user(500 + n, "Léa"), "Un avis", reply_to_message_id=polls[0]["message_id"]
        )
    [document] = await agora.command(group, admin, "/exporter")
    data = api.calls_of("sendDocument")[-1]["document"]
    assert len(data) <= limit
    rows = exported_rows(api)
    answers = [r for r in rows if r[0] == "réponse"]
    assert 0 < len(answers) < 40
    assert len([r for r in rows if r[0] == "résultat"]) == 36
    assert len([r for r in rows if r[0] == "avis"]) == 3  # opinions go before named answers
    note = rows[-1]
    assert note[0] == "remarque"
    assert re.fullmatch(
        rf"Fichier incomplet{NBSP}: un export s’arrête à [\d,]+{NBSP}Mo{NNBSP}; "
        rf"{40 - len(answers)} réponses et 0 avis n’y figurent pas\.",
        note[8],
    )
    assert document["caption"].endswith("\n" + note[8])

    # Under the cap, the same export is whole and says nothing of the kind.
    monkeypatch.setattr(export, "LIMIT", 10 * 1024 * 1024)
    [whole] = await agora.command(group, admin, "/exporter")
    rows = exported_rows(api)
    assert len([r for r in rows if r[0] in {"réponse", "avis"}]) == 43
    assert "remarque" not in {r[0] for r in rows}
    assert "\n" not in whole["caption"]


async def test_listing_pages_by_key_while_new_opinions_arrive(
    agora: Agora, api: FakeBotAPI
) -> None:
    """Each press reads from the opinion its button names: no opinion is skipped or shown
    twice when others arrive between presses, and "newer" leads back page by page."""
    group, admin = admin_group(api, chat_id=-100793)
    await agora.command(group, admin, "/aide")  # the chat is recorded
    article = agora.app.bot_data.services.library.newest
    keys = [None, *(q.key for q in article.questions)]
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    message_ids = iter(range(1_000, 2_000))

    async def add(count: int, key: str | None, at: datetime) -> None:
        async with AsyncSession(agora.engine) as session:
            for n in range(count):
                session.add(
                    Opinion(
                        chat_id=group["id"], message_id=next(message_ids), article_id=article.id,
                        question_key=key, user_id=500 + n, author=f"Membre {n}",
                        text=f"Avis {key} {n} " + "réfléchi " * 40,
                        # every third shares its time with the previous one: ids break the tie
                        created_at=at + timedelta(minutes=n - n % 3),
                    )
                )
            await session.commit()

    for rank, key in enumerate(keys[:4]):
        await add(12, key, start + timedelta(hours=rank))

    def place(opinion: Opinion) -> tuple[int, float, int]:
        rank = keys.index(opinion.question_key)
        return rank, -opinion.created_at.replace(tzinfo=UTC).timestamp(), -opinion.id

    [first] = await agora.command(group, admin, "/avis")
    message_id, pages = first["message_id"], [listed_ids(first["text"])]
    markup, presses = first.get("reply_markup"), 0
    passed: set[int] = set()
    while markup is not None and markup["inline_keyboard"][0][-1]["text"] == "Plus anciens ▶":
        older = markup["inline_keyboard"][0][-1]["callback_data"]
        assert len(older.encode()) <= 64
        presses += 1
        if presses == 2:  # new opinions: on the article (already passed) and on question 4
            passed = {o.id for o in await opinions(agora)}
            await add(2, None, start + timedelta(days=1))
            await add(2, keys[4], start + timedelta(days=1))
        await agora.settle(api.callback_query(group, admin, message_id, older))
        edited = api.messages[(group["id"], message_id)]
        pages.append(listed_ids(edited["text"]))
        assert f"(page {len(pages)})" in edited["text"]
        markup = edited.get("reply_markup")
    everything = sorted(await opinions(agora), key=place)
    new_on_the_article = {o.id for o in everything if o.id not in passed and o.question_key is None}
    expected = [o.id for o in everything if o.id not in new_on_the_article]
    assert len(pages) >= 4
    assert [found for page in pages for found in page] == expected

    # Back, page by page: each "newer" page holds the opinions just before the one shown,
    # until the first page, cut from the first opinion as /avis cuts it.
    order, shown = [o.id for o in everything], pages[-1]
    while markup is not None and markup["inline_keyboard"][0][0]["text"] == "◀ Plus récents":
        newer = markup["inline_keyboard"][0][0]["callback_data"]
        await agora.settle(api.callback_query(group, admin, message_id, newer))
        edited = api.messages[(group["id"], message_id)]
        before, markup = listed_ids(edited["text"]), edited.get("reply_markup")
        if "(page 1)" not in edited["text"]:
            assert before == order[order.index(shown[0]) - len(before) : order.index(shown[0])]
        shown = before
    [again] = await agora.command(group, admin, "/avis")
    assert shown == listed_ids(again["text"])
    assert shown[:2] == sorted(new_on_the_article, reverse=True)  # the new ones at the top


# Found by the fuzzer (tests/test_fuzz.py), each the shortest sequence of updates that
# showed it, replayed in the fuzzer's world.


async def test_a_supergroup_message_is_not_its_former_group_message_of_the_same_id(
    database_url: str,
) -> None:
    async with fresh_world(database_url) as world:
        bob, group = world.users["bob"], world.chats["B"]
        poll = world.api.sent(group["id"], "sendPoll")[0]
        await world.agora.command(group, bob, "Mon avis", reply_to_message_id=poll["message_id"])
        written = world.api.last_message_id(group["id"])
        [opinion] = (await world.opinions()).values()
        supergroup = -1009999999999999
        await world.settle(world.api.migrate(group["id"], supergroup))
        moved = world.api.chats[supergroup]
        max_ = world.api.user(77, "Max")  # a member, not an administrator
        await world.agora.command(moved, max_, "Bonjour", message_id=written)
        await world.agora.command(moved, max_, "Bonjour à tous", edit=True, message_id=written)
        [after] = (await world.opinions()).values()
        assert (after.user_id, after.text) == (bob["id"], "Mon avis") == (
            opinion.user_id,
            opinion.text,
        )


async def test_delete_with_a_number_beyond_32_bits(database_url: str) -> None:
    """PostgreSQL's INTEGER stops at 2**31 - 1: a larger number is no opinion's."""
    async with fresh_world(database_url) as world:
        ada, group = world.users["ada"], world.chats["A"]
        [answer] = await world.agora.command(group, ada, "/supprimer 2147483648")
        assert answer["text"].startswith("Répondez avec /supprimer à l’avis à supprimer")
