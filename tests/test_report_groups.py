"""The report's opinion groups: those of `/groupes tous`, in the same words, found in the
background (the first page says they are on their way, never waits for them), in the page's
language, escaped, found again once ten minutes old while the old ones stay on the page, on
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.core.settings import Settings
from tests.support.botapi import FakeBotAPI
from tests.support.camps import CAMP_B, group_with_polls, rate, two_camps, vote_as
from tests.support.harness import Agora, FakeClock, start_agora
from tests.test_report import ARTICLE, bearer, get, plain, report_settings

HOSTILE = "Le conseil a eu <raison> & tort"


@dataclass
class Camps:
    agora: Agora
    api: FakeBotAPI
    base: str
    group: dict
    admin: dict
    polls: list[dict]


@pytest.fixture
async def camps(api: FakeBotAPI, settings: Settings, clock: FakeClock) -> AsyncIterator[Camps]:
    """Two camps (15 and 10 voters) in one group; an opinion with markup in it that the
    first camp agrees with and the second rejects."""
    settings = report_settings(settings)
    async with start_agora(api, settings, clock) as agora:
        group, admin, polls = await group_with_polls(agora, api, -100981)
        camp_a, camp_b = await two_camps(agora, api, polls)
        await agora.command(group, api.user(3000, "Auteur"), f"/avis {HOSTILE}")
        await rate(agora, HOSTILE, camp_a[:12], 1)
        await rate(agora, HOSTILE, camp_b[:8], -1)
        yield Camps(agora, api, f"http://127.0.0.1:{settings.report_port}", group, admin, polls)


def groups_section(page: str) -> str:
    return page.split('<h2 id="groups">', 1)[1].split("<h2", 1)[0]


def paragraphs(section: str) -> list[str]:
    """Each paragraph of the section as it reads: line breaks kept, tags gone."""
    found = re.findall(r"<p(?: [^>]*)?>(.*?)</p>", section, re.DOTALL)
    return [plain(p.replace("<br>", "\n")) for p in found]


async def found_page(base: str, query: str = "") -> str:
    """The article's page once its groups are there (they are found in the background)."""
    async with asyncio.timeout(30):
        while True:
            status, page, _ = await get(f"{base}/report/{ARTICLE}{query}", headers=bearer())
            assert status == 200, page
            if 'class="card groups"' in page:
                return page
            await asyncio.sleep(0.05)


async def test_the_groups_of_all_chats_in_the_words_of_groups_all(camps: Camps) -> None:
    status, first, _ = await get(f"{camps.base}/report/{ARTICLE}", headers=bearer())
    assert status == 200
    # The first page does not wait for the clustering: it says the groups are on their way.
    assert "Les groupes d’opinion sont en cours de calcul" in groups_section(first)
    assert "Groupe 1" not in first
    page = await found_page(camps.base)
    shown = paragraphs(groups_section(page))
    answer = "\n".join(
        m["text"] for m in await camps.agora.command(camps.group, camps.admin, "/groupes tous")
    )
    # Every block of /groupes tous, word for word (its heading line apart: the page has its
    # own heading and the article's title), then when they were found.
    assert answer.startswith("🧭 Groupes d’opinion — Crise à la tête d’OpenAI")
    assert shown[0].startswith(
        "D’après 25 votants ayant répondu à au moins la moitié des questions, dans toutes"
    )
    assert any(block.startswith("Groupe 2 · 10 personnes") for block in shown)
    for block in shown[:-1]:
        assert block in answer
    assert shown[-1].startswith("Trouvés le ")
    assert "recalculés toutes les 10 minutes au plus" in shown[-1]
    # The opinion's markup is text on the page, never markup.
    section = groups_section(page)
    assert "&lt;raison&gt; &amp; tort" in section
    assert "<raison>" not in page

    english = await found_page(camps.base, "?lang=en")
    shown_en = paragraphs(groups_section(english))
    assert shown_en[0].startswith(
        "Based on 25 voters who answered at least half of the questions, in all chats."
    )
    assert any(block.startswith("Group 1 · 15 people") for block in shown_en)
    assert shown_en[-1].startswith("Found on ")


async def test_groups_ten_minutes_old_are_found_again_while_they_stay_shown(
    camps: Camps, clock: FakeClock
) -> None:
    page = await found_page(camps.base)
    assert any(p.startswith("Groupe 2 · 10 personnes") for p in paragraphs(groups_section(page)))
    for n in range(6):  # six more in the second camp
        await vote_as(camps.agora, camps.polls, camps.api.user(2100 + n, f"Late{n}"), CAMP_B)
    clock.now += timedelta(minutes=9)
    _, fresh, _ = await get(f"{camps.base}/report/{ARTICLE}", headers=bearer())
    assert groups_section(fresh) == groups_section(page)  # not ten minutes old: kept
    clock.now += timedelta(minutes=1)
    _, stale, _ = await get(f"{camps.base}/report/{ARTICLE}", headers=bearer())
    # Found again in the background; meanwhile the page shows the ones it has.
    assert 'class="card groups"' in stale
    async with asyncio.timeout(30):
        while True:
            _, later, _ = await get(f"{camps.base}/report/{ARTICLE}", headers=bearer())
            blocks = paragraphs(groups_section(later))
            if any(p.startswith("Groupe 1 · 16 personnes") for p in blocks):
                break
            await asyncio.sleep(0.05)
    assert "D’après 31 votants" in blocks[0]
    assert any(p.startswith("Groupe 2 · 15 personnes") for p in blocks)  # the first camp


async def test_too_few_voters_say_how_many_more_are_needed(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    settings = report_settings(settings)
    async with start_agora(api, settings, clock) as agora:
        _group, _admin, polls = await group_with_polls(agora, api, -100982)
        for n in range(3):
            await vote_as(agora, polls, api.user(5000 + n, f"V{n}"), CAMP_B)
        page = await found_page(f"http://127.0.0.1:{settings.report_port}")
    [needed, _when] = paragraphs(groups_section(page))
    assert needed == (
        "Les groupes d’opinion demandent au moins 20 votants ayant répondu à au moins la moitié "
        "des questions (3 pour l’instant, dans toutes les conversations)\u00a0: il en manque 17."
    )
