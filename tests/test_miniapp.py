"""The report inside Telegram: /rapport's Mini App button, the initData Telegram signs (good,
forged, stale, missing), and the report of only the chats the person administers now."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.core.settings import Settings
from bot.report.miniapp import init_data_user, sign
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, start_agora
from tests.support.processes import TOKEN
from tests.test_report import report_settings
from tests.test_report_browser import CHROMIUM, _browser_or_skip, _watched

NBSP = "\u00a0"
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def init_data(user_id: int, *, token: str = TOKEN, signed_at: datetime | None = None,
              **changes: str) -> str:
    """initData as Telegram hands it to a Mini App, signed for the bot (`changes`: fields
    altered after signing)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "Ada", "language_code": "fr"}),
        "auth_date": str(int((signed_at or datetime.now(UTC)).timestamp())),
        "signature": "c2lnbmF0dXJlLWJ5LXRlbGVncmFt",
    }
    fields["hash"] = sign(fields, token)
    fields.update(changes)
    return urlencode(fields)


def test_only_data_telegram_signed_for_this_bot_in_the_last_day_names_a_person() -> None:
    assert init_data_user(init_data(10, signed_at=NOW), TOKEN, NOW) == 10
    assert init_data_user(init_data(10, signed_at=NOW - timedelta(hours=23)), TOKEN, NOW) == 10
    # Forged: another user after signing, the signature dropped, another bot's token.
    forged = init_data(10, signed_at=NOW, user=json.dumps({"id": 99, "first_name": "Eve"}))
    assert init_data_user(forged, TOKEN, NOW) is None
    assert init_data_user(init_data(10, signed_at=NOW, signature=""), TOKEN, NOW) is None
    assert init_data_user(init_data(10, signed_at=NOW, token="1:other"), TOKEN, NOW) is None
    # Stale, or from the future; no hash; a field twice; not a query string at all.
    assert init_data_user(init_data(10, signed_at=NOW - timedelta(days=2)), TOKEN, NOW) is None
    assert init_data_user(init_data(10, signed_at=NOW + timedelta(hours=1)), TOKEN, NOW) is None
    assert init_data_user(init_data(10, signed_at=NOW, hash=""), TOKEN, NOW) is None
    assert init_data_user(init_data(10, signed_at=NOW) + "&user=x", TOKEN, NOW) is None
    assert init_data_user("not initData", TOKEN, NOW) is None
    assert init_data_user("", TOKEN, NOW) is None


@dataclass
class Inside:
    agora: Agora
    base: str
    ada: dict[str, Any]
    bob: dict[str, Any]


@pytest.fixture
async def inside(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[Inside]:
    settings = report_settings(settings).model_copy(
        update={"webapp_url": "https://agora.example.org"}
    )
    async with start_agora(api, settings, clock) as agora:
        mine, theirs = api.group(-100951, "Le groupe d’Ada"), api.group(-100952, "Les autres")
        ada, bob = api.user(10, "Ada"), api.user(11, "Bob")
        api.set_admin(mine["id"], ada)
        for group in (mine, theirs):
            api.set_admin(group["id"], bob)
            polls = [m for m in await agora.command(group, bob, "/sondage") if "poll" in m]
            for voter in (ada, bob):
                await agora.settle(api.vote(polls[0]["poll"]["id"], voter, [0]))
            await agora.command(group, bob, f"/avis Un avis écrit dans {group['title']}")
        yield Inside(agora, f"http://127.0.0.1:{settings.report_port}", ada, bob)


async def get(url: str, **headers: str) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, dict(answer.headers), await answer.text()


async def test_the_mini_app_shows_the_chats_its_reader_administers_now(
    inside: Inside, api: FakeBotAPI
) -> None:
    status, headers, shell = await get(f"{inside.base}/app?article=latest")
    assert status == 200
    assert '<script src="/app/app.js"></script>' in shell
    assert "frame-ancestors https://web.telegram.org" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in headers
    status, _, script = await get(f"{inside.base}/app/app.js")
    assert status == 200
    assert 'headers: {Authorization: "tma " + data}' in script

    report = f"{inside.base}/app/report/latest?lang=fr"
    ada = init_data(inside.ada["id"])
    status, _, page = await get(report, Authorization=f"tma {ada}")
    assert status == 200
    assert "Le groupe d’Ada" in page
    assert "Les autres" not in page  # she voted there, but does not administer it
    # The opinions shown are those of her chats only (the figures are all chats').
    assert "Un avis écrit dans Le groupe d’Ada" in page
    assert "Un avis écrit dans Les autres" not in page
    status, _, page = await get(report, Authorization=f"tma {init_data(inside.bob['id'])}")
    assert status == 200
    assert "Le groupe d’Ada" in page
    assert "Les autres" in page
    assert "Un avis écrit dans Les autres" in page

    # Demoted: once the group's list is fetched again (a minute at most; at once on a
    # chat_member update), her report shows nothing.
    api.set_admin(-100951, inside.ada, "member")
    inside.agora.app.bot_data.services.admins.forget(-100951)
    status, _, page = await get(report, Authorization=f"tma {ada}")
    assert status == 403
    assert "Vous n’administrez aucune des conversations où cet article est discuté." in page


async def test_forged_stale_or_missing_init_data_shows_nothing(inside: Inside) -> None:
    report = f"{inside.base}/app/report/latest?lang=fr"
    ada = inside.ada["id"]
    stale = init_data(ada, signed_at=datetime.now(UTC) - timedelta(days=2))
    forged = init_data(ada, user=json.dumps({"id": inside.bob["id"]}))
    for headers in ({}, {"Authorization": f"tma {stale}"}, {"Authorization": f"tma {forged}"},
                    {"Authorization": f"Bearer {init_data(ada)}"}):
        status, _, page = await get(report, **headers)
        assert status == 403
        assert "Le groupe d’Ada" not in page
        assert "Cette page ne s’ouvre que depuis le bouton d’Agora dans Telegram" in page
    status, _, _page = await get(
        f"{inside.base}/app/report/no-such-article", Authorization=f"tma {init_data(ada)}"
    )
    assert status == 404
    tma = {"Authorization": f"tma {init_data(ada)}"}
    async with aiohttp.ClientSession() as session, session.post(report, headers=tma) as answer:
        assert answer.status == 405


async def test_report_in_private_opens_the_mini_app_and_says_where_to_ask_elsewhere(
    inside: Inside, api: FakeBotAPI
) -> None:
    agora, ada = inside.agora, inside.ada
    [answer] = await agora.command(api.private_chat(ada), ada, "/rapport")
    [[button]] = answer["reply_markup"]["inline_keyboard"]
    assert button["text"] == "📊 Ouvrir le rapport"
    assert button["web_app"]["url"] == (
        "https://agora.example.org/app?article=openai-board-2023-11&lang=fr"
    )
    group = api.group(-100951, "Le groupe d’Ada")
    [refused] = await agora.command(group, ada, "/rapport")
    assert refused["text"] == (
        f"Demandez-moi en privé{NBSP}: /rapport ouvre le rapport des conversations que vous "
        "administrez."
    )


async def test_the_mini_app_in_a_real_browser_shows_the_report_of_the_readers_chats(
    inside: Inside,
) -> None:
    """Headless Chromium opens /app as Telegram does (initData in the address's fragment):
    its script fetches the report with it and shows it, with nothing loaded from elsewhere
    and nothing refused by the page's own policy; without initData it says where to open it."""
    async_playwright = _browser_or_skip()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        seen: list[str] = []
        problems: list[str] = []
        page = await _watched(context, inside.base, seen, problems)
        signed = init_data(inside.ada["id"])
        fragment = urlencode({"tgWebAppData": signed, "tgWebAppVersion": "8.0"})
        await page.goto(f"{inside.base}/app?article=latest&lang=fr#{fragment}")
        await page.wait_for_selector("text=Le groupe d’Ada", timeout=15_000)
        body = await page.inner_text("body")
        assert "Les autres" not in body
        assert await page.locator("a[href^='/report']").count() == 0  # the token's pages
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        await page.goto(f"{inside.base}/app?article=latest&lang=fr")
        await page.wait_for_selector("text=Ouvrez cette page depuis le bouton d’Agora")
        await browser.close()
    assert problems == []
    assert all(url.startswith(inside.base) for url in seen)


def test_webapp_url_is_an_https_origin_and_needs_the_report_server(settings: Settings) -> None:
    values = settings.model_dump()
    with pytest.raises(ValueError, match="https"):
        Settings(**{**values, "webapp_url": "http://agora.example.org", "report_port": 8443,
                    "report_token": TOKEN})
    with pytest.raises(ValueError, match="REPORT_PORT"):
        Settings(**{**values, "webapp_url": "https://agora.example.org", "report_port": None})
    chosen = Settings(**{**values, "webapp_url": "https://agora.example.org/",
                         "report_port": 8443, "report_token": TOKEN})
    assert chosen.webapp_url == "https://agora.example.org"
