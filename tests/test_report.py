"""The operators' report, over HTTP: the token rules, GET only, the language, what the page
and its CSV file say (the numbers of /results, every user text escaped), on SQLite and
PostgreSQL. tests/test_report_browser.py looks at the same page in a real browser."""

from __future__ import annotations

import csv
import html
import io
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.core.settings import Settings
from bot.report.server import accepted_language
from bot.report.style import CSS, CSS_HASH
from tests.support.botapi import FakeBotAPI
from tests.support.camps import rate
from tests.support.harness import Agora, FakeClock, start_agora
from tests.test_metrics import free_port

TOKEN = "report-token-0123456789abcdef"
NBSP = "\u00a0"
ARTICLE = "openai-board-2023-11"  # the packaged article
HOSTILE_TITLE = 'Débat <img src=x onerror="alert(1)"> & co'
HOSTILE_OPINION = '<script>alert("x")</script> & une crise, pas un complot'


@dataclass
class Reported:
    """A bot with its report on, after a small debate in two groups."""

    agora: Agora
    base: str
    fr_results: str
    en_results: str


def report_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"report_port": free_port(), "report_token": SecretStr(TOKEN)}
    )


async def debate(agora: Agora, api: FakeBotAPI) -> tuple[str, str]:
    """Two groups vote on the first question (29 and 3 voters) and one opinion is written;
    what /results says in each."""
    fr_group, en_group = api.group(-100901, HOSTILE_TITLE), api.group(-100902, "Debate")
    admin = api.user(10, "Ada")
    for group in (fr_group, en_group):
        api.set_admin(group["id"], admin)
    await agora.command(en_group, admin, "/lang en")
    fr_polls = [m for m in await agora.command(fr_group, admin, "/sondage") if "poll" in m]
    en_polls = [m for m in await agora.command(en_group, admin, "/poll") if "poll" in m]
    for i in range(29):
        voter = api.user(1000 + i, f"U{i}")
        await agora.settle(api.vote(fr_polls[0]["poll"]["id"], voter, [0 if i < 11 else 1]))
    for i in range(3):
        await agora.settle(api.vote(en_polls[0]["poll"]["id"], api.user(2000 + i, f"E{i}"), [0]))
    # The second question: 2 voters here and 3 there, too few to name a leader.
    for i, (polls, option) in enumerate([(fr_polls, 0), (fr_polls, 1)] + [(en_polls, 2)] * 3):
        await agora.settle(api.vote(polls[1]["poll"]["id"], api.user(3000 + i, f"S{i}"), [option]))
    author = api.user(11, "Max <b>")
    await agora.command(
        fr_group, author, HOSTILE_OPINION, reply_to_message_id=fr_polls[1]["message_id"]
    )
    # A private chat's opinion: the chat is counted, the person's name never shown.
    alice = api.user(12, "Alice Private")
    await agora.command(api.private_chat(alice), alice, "/avis Mon avis sur l'article entier")
    fr = "\n".join(m["text"] for m in await agora.command(fr_group, admin, "/resultats"))
    en = "\n".join(m["text"] for m in await agora.command(en_group, admin, "/results"))
    return fr, en


@pytest.fixture
async def reported(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[Reported]:
    settings = report_settings(settings)
    async with start_agora(api, settings, clock) as agora:
        fr, en = await debate(agora, api)
        yield Reported(agora, f"http://127.0.0.1:{settings.report_port}", fr, en)


def bearer(token: str = TOKEN, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def plain(telegram_html: str) -> str:
    """What a Telegram HTML text reads as: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^<>]*>", "", telegram_html))


def everywhere_shares(results: str) -> list[str]:
    """The all-chats share of every option of the questions with votes, in order, as
    /results writes them (the report draws no bar for a question nobody answered)."""
    shares = []
    for block in re.split(r"^\d+\. ", plain(results), flags=re.MULTILINE)[1:]:
        if not re.search(r"(?:Total|Overall)\s?: 0 vot", block):
            shares += re.findall(r"· (?:total|overall)\s?: ([^\n]+)", block)
    return shares


def everywhere_verdicts(results: str, scope: str) -> list[str]:
    """The all-chats verdict of every question with votes, as /results writes it (a sentence
    that names its scope: "Au total, …", "Overall, …")."""
    return re.findall(rf"^{scope}, .+$", plain(results), re.MULTILINE)


def shown_shares(page: str) -> list[str]:
    return [html.unescape(s) for s in re.findall(r'<span class="numbers">([^<]*)</span>', page)]


def page_verdicts(page: str) -> list[str]:
    return [plain(v) for v in re.findall(r'<p class="verdict">(.*?)</p>', page)]


async def get(url: str, **kwargs: Any) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response.status, await response.text(), dict(response.headers)


async def test_the_token_opens_the_report_and_nothing_else_does(
    reported: Reported, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    base = reported.base
    status, page, headers = await get(f"{base}/report")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert "Ce rapport demande son jeton" in page
    assert (await get(f"{base}/report", headers=bearer("x" * 30)))[0] == 403
    assert (await get(f"{base}/report/{ARTICLE}", headers=bearer("x" * 30)))[0] == 403
    assert (await get(f"{base}/report?token=wrong-token-000000000"))[0] == 403
    assert (await get(f"{base}/report", cookies={"agora_report": "forged"}))[0] == 403
    # Without the token, an unknown article is 401 like any other: nothing is given away.
    assert (await get(f"{base}/report/nothing-here"))[0] == 401
    assert (await get(f"{base}/report/nothing-here", headers=bearer()))[0] == 404

    # ?token= once: a cookie (HttpOnly, SameSite=Strict) and the address without it.
    # (unsafe: aiohttp's client keeps cookies of IP addresses only when told to)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(
            f"{base}/report?token={TOKEN}&lang=en", allow_redirects=False
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/report?lang=en"
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie
            assert "SameSite=Strict" in cookie
            assert TOKEN not in cookie
        async with session.get(f"{base}/report?lang=en") as response:
            assert response.status == 200
            assert "Agora report" in await response.text()
        # The redirect stays on the report, whatever the address was.
        async with session.get(
            f"{base}//elsewhere.example/x?token={TOKEN}", allow_redirects=False
        ) as response:
            assert response.headers["Location"] == "/report"

    for method in ("POST", "PUT", "DELETE", "PATCH"):
        async with aiohttp.ClientSession() as session, session.request(
            method, f"{base}/report", headers=bearer()
        ) as response:
            assert response.status == 405, method
    # The token was in addresses and headers: no log line holds it.
    assert [r.getMessage() for r in caplog.records if TOKEN in r.getMessage()] == []


async def test_the_page_says_what_results_says_in_both_languages(reported: Reported) -> None:
    base = reported.base
    status, page, headers = await get(f"{base}/report/{ARTICLE}", headers=bearer())
    assert status == 200, page
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert f"style-src '{CSS_HASH}'" in csp
    assert "script-src" not in csp
    assert "<script" not in page.split("</style>")[0]
    assert len(page.encode()) < 300 * 1024
    assert CSS in page
    assert '<html lang="fr">' in page  # DEFAULT_LANGUAGE, without ?lang= nor Accept-Language

    fr_shares = everywhere_shares(reported.fr_results)
    assert fr_shares[:2] == [f"43,8{NBSP}% (14)", f"56,2{NBSP}% (18)"]
    assert len(fr_shares) == 10  # two questions with votes, five options each
    assert shown_shares(page) == fr_shares
    # The verdicts in all chats, in /results' words.
    verdicts = everywhere_verdicts(reported.fr_results, "Au total")
    assert len(verdicts) == 2
    assert page_verdicts(page) == verdicts
    assert "32 votants" in page

    # Every user text is escaped: the group's title, the opinion; its author never shown.
    assert "<script>" not in page
    assert "<img" not in page
    assert html.escape(HOSTILE_TITLE, quote=True) in page
    assert html.escape(HOSTILE_OPINION, quote=True) in page
    assert "Max" not in page
    assert "Alice" not in page
    assert "Une conversation privée" in page

    # English: by ?lang=, or by the browser's Accept-Language.
    _, english, _ = await get(f"{base}/report/{ARTICLE}?lang=en", headers=bearer())
    _, accepted, _ = await get(
        f"{base}/report/{ARTICLE}", headers=bearer(**{"Accept-Language": "en-GB,fr;q=0.5"})
    )
    for page_en in (english, accepted):
        assert '<html lang="en">' in page_en
        assert "Members who voted" in page_en
        assert shown_shares(page_en) == everywhere_shares(reported.en_results)
        assert page_verdicts(page_en) == everywhere_verdicts(reported.en_results, "Overall")


async def test_the_csv_file_is_safe_and_complete(reported: Reported) -> None:
    status, body, headers = await get(
        f"{reported.base}/report/{ARTICLE}/results.csv?lang=en", headers=bearer()
    )
    assert status == 200
    assert headers["Content-Disposition"].startswith('attachment; filename="agora-report-')
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:6] == ["type", "number", "question", "option", "votes", "voters"]
    first = [row for row in rows if row[0] == "result" and row[1] == "1"]
    assert [(row[4], row[5]) for row in first[:2]] == [("14", "32"), ("18", "32")]
    chats = {row[9]: (row[5], row[10]) for row in rows if row[0] == "chat"}
    assert chats == {HOSTILE_TITLE: ("29", "1"), "Debate": ("3", "0"), "A private chat": ("0", "1")}


def test_settings_require_a_token_with_the_port(settings: Settings) -> None:
    with pytest.raises(ValueError, match="REPORT_TOKEN is not set"):
        Settings(**{**settings.model_dump(), "report_port": 8099, "_env_file": None})
    with pytest.raises(ValueError, match="at least 16"):
        Settings(**{**settings.model_dump(), "report_token": "short", "_env_file": None})
    # docker-compose.yml leaves REPORT_PORT empty when no REPORT_TOKEN is given: off.
    off = Settings(**{**settings.model_dump(), "report_port": "", "_env_file": None})
    assert off.report_port is None
    good = report_settings(settings)
    assert TOKEN in good.secrets()


def test_accept_language_by_preference() -> None:
    assert accepted_language("de-DE,en;q=0.8,fr;q=0.9") == "fr"
    assert accepted_language("en-US,en;q=0.9") == "en"
    assert accepted_language("de, it;q=0.5") is None
    assert accepted_language("fr;q=0, en;q=0.1") == "en"
    assert accepted_language("") is None


async def test_the_page_names_the_opinions_readers_weighed_most(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    """Across chats, the broadest agreement and the most divisive opinion, as the digest names
    them, once five people rated them; never their authors."""
    settings = report_settings(settings)
    async with start_agora(api, settings, clock) as agora:
        base = f"http://127.0.0.1:{settings.report_port}"
        first, second = api.group(-100961, "Un"), api.group(-100962, "Deux")
        await agora.command(first, api.user(20, "Zoé Autrice"), "/avis Tout le monde est d’accord")
        await agora.command(second, api.user(21, "Yann"), "/avis Cela divise & <partage>")
        await agora.command(first, api.user(22, "Xavier"), "/avis Trop peu noté")
        readers = [api.user(500 + i, f"R{i}") for i in range(8)]
        await rate(agora, "Tout le monde est d’accord", readers[:6], 1)
        await rate(agora, "Cela divise & <partage>", readers[:3], 1)
        await rate(agora, "Cela divise & <partage>", readers[3:6], -1)
        await rate(agora, "Trop peu noté", readers[:4], 1)
        status, page, _ = await get(f"{base}/report/openai-board-2023-11?lang=fr", headers=bearer())
    assert status == 200
    weighed = page.split('<h2 id="weighed">', 1)[1].split("<h2", 1)[0]
    assert "Tout le monde est d’accord" in weighed
    assert "La plus large adhésion · 👍 6 · 👎 0 · 0 sans avis" in weighed
    assert "Cela divise &amp; &lt;partage&gt;" in weighed
    assert "Le plus clivant · 👍 3 · 👎 3 · 0 sans avis" in weighed
    assert "Trop peu noté" not in weighed
    assert "Zoé" not in page


async def test_the_chart_downloads_as_a_png_of_all_chats(reported: Reported) -> None:
    status, page, _ = await get(f"{reported.base}/report/openai-board-2023-11?lang=en",
                                headers=bearer())
    assert status == 200
    assert 'href="/report/openai-board-2023-11/chart.png?lang=en"' in page
    async with aiohttp.ClientSession() as session:
        url = f"{reported.base}/report/openai-board-2023-11/chart.png?lang=en"
        async with session.get(url, headers=bearer()) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "image/png"
            assert "attachment" in answer.headers["Content-Disposition"]
            png = await answer.read()
        async with session.get(url) as refused:
            assert refused.status == 401
        async with session.get(url + "&page=9", headers=bearer()) as missing:
            assert missing.status == 404
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
