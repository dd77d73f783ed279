"""The report in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright;
no browser is downloaded), on SQLite and PostgreSQL. The numbers on the page are /results'
numbers, in French and in English; a phone's width scrolls only downwards; the token rules
hold; the page loads nothing from another origin and breaks nothing of its own
Content-Security-Policy. Screenshots go to REPORT_SCREENSHOTS when it names a folder.

Without Chromium or Playwright the test is skipped, unless REQUIRE_BROWSER is set (.ci/run
sets it: there, a missing browser is a failure)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.settings import Settings
from tests.support.botapi import FakeBotAPI
from tests.support.harness import FakeClock, start_agora
from tests.test_report import (
    TOKEN,
    debate,
    everywhere_shares,
    everywhere_verdicts,
    report_settings,
)

CHROMIUM = Path("/usr/bin/chromium")
ARTICLE = "openai-board-2023-11"


def _browser_or_skip() -> Any:
    missing = None
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing = "playwright is not installed"
    if missing is None and not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    if missing is not None:
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)
    return async_playwright


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async_playwright = _browser_or_skip()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        await launched.close()


def screenshots() -> Path | None:
    folder = os.environ.get("REPORT_SCREENSHOTS")
    return Path(folder) if folder else None


async def _watched(context: Any, base: str, seen: list[str], problems: list[str]) -> Any:
    """A page whose every request is recorded and whose console errors are kept."""
    page = await context.new_page()
    page.on("request", lambda request: seen.append(request.url))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


async def _numbers(page: Any) -> tuple[list[str], list[str]]:
    shares = await page.locator(".numbers").all_inner_texts()
    verdicts = await page.locator(".verdict").all_inner_texts()
    return [s.strip() for s in shares], [v.strip() for v in verdicts]


async def test_the_report_in_chromium(
    browser: Any, api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    settings = report_settings(settings)
    base = f"http://127.0.0.1:{settings.report_port}"
    address = f"{base}/report/{ARTICLE}"
    seen: list[str] = []
    problems: list[str] = []
    async with start_agora(api, settings, clock) as agora:
        fr_results, en_results = await debate(agora, api)

        # Refused: no token, then a wrong one.
        anonymous = await browser.new_context()
        page = await _watched(anonymous, base, seen, problems)
        assert (await page.goto(address)).status == 401
        assert (await page.goto(f"{address}?token=not-the-right-token-at-all")).status == 403
        await anonymous.close()
        problems.clear()  # the refusals' 401 and 403 are reported as console errors

        # A desktop in French (its Accept-Language), light: ?token= once, then the cookie;
        # the address loses the token.
        desktop = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        page = await _watched(desktop, base, seen, problems)
        assert (await page.goto(f"{address}?token={TOKEN}")).status == 200
        assert page.url == address
        [cookie] = await desktop.cookies()
        assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
        assert await page.get_attribute("html", "lang") == "fr"
        shares, verdicts = await _numbers(page)
        assert shares == everywhere_shares(fr_results)
        assert verdicts == everywhere_verdicts(fr_results, "Au total")
        light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        if screenshots():
            await page.screenshot(path=screenshots() / "report-desktop.png", full_page=True)

        # English, through the page's own link.
        await page.click("nav a[hreflang=en]")
        assert await page.get_attribute("html", "lang") == "en"
        shares, verdicts = await _numbers(page)
        assert shares == everywhere_shares(en_results)
        assert verdicts == everywhere_verdicts(en_results, "Overall")
        assert await page.locator("text=Members who voted").count() == 1
        await desktop.close()

        # A phone, dark, with the token as a header: no horizontal scroll.
        phone = await browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            color_scheme="dark",
            extra_http_headers={"Authorization": f"Bearer {TOKEN}"},
        )
        page = await _watched(phone, base, seen, problems)
        assert (await page.goto(f"{address}?lang=en")).status == 200
        width = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1] == 390
        # The figures per day opened, the opinion groups found (in the background, shown
        # at a later visit): still no horizontal scroll.
        async with asyncio.timeout(30):
            while not await page.locator("section.groups").count():
                await asyncio.sleep(0.1)
                await page.reload()
        await page.click("section.days summary")
        assert await page.locator("section.days table").is_visible()
        width = await page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1] == 390
        dark = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert dark != light
        if screenshots():
            await page.screenshot(path=screenshots() / "report-phone.png", full_page=True)
        await phone.close()

    assert len(seen) >= 5  # the pages themselves: nothing else was ever asked for
    assert [url for url in seen if not url.startswith(base + "/")] == []
    assert problems == []  # a style the policy refused would show here
