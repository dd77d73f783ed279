"""Chats that follow the latest article hear of a new one once, in their language, in the
morning; a chat that chose its article hears nothing; restarts send nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bot.articles.announcements import Announcer, due_time
from bot.core.settings import Settings
from storage.models import Announcement
from tests.support.articles import write_article
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, start_agora

NBSP = "\u00a0"
FR_HEAD = "📰 Nouvel article"
EN_HEAD = "📰 New article"


async def reload(agora: Agora) -> None:
    """SIGHUP to the bot (this process); wait for the reload and for what it queued."""
    articles = agora.app.bot_data.reloader
    before = articles.reloads
    os.kill(os.getpid(), signal.SIGHUP)
    async with asyncio.timeout(10):
        while articles.reloads == before:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await agora.sent_out()
    agora.new_messages()  # seen: the next command's answers come alone


def announcements(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [
        m["text"] for m in api.sent(chat_id) if m.get("text", "").startswith((FR_HEAD, EN_HEAD))
    ]


async def test_following_chats_get_one_announcement_each_even_after_a_restart(
    api: FakeBotAPI, settings: Settings, clock: FakeClock, articles_dir: Path
) -> None:
    clock.set("2026-11-27 10:00")
    ada, bob = api.user(1001, "Ada"), api.user(1002, "Bob", language_code="en")
    follows = api.group(-100501, "Suit le dernier")
    keeps = api.group(-100502, "Garde le sien")
    api.set_admin(keeps["id"], ada)
    async with start_agora(api, settings, clock) as agora:
        await agora.command(follows, ada, "/aide")
        await agora.command(api.private_chat(bob), bob, "/help")
        [kept] = await agora.command(keeps, ada, "/article openai-board-2023-11")
        assert "débat désormais" in kept["text"]
        await agora.command(keeps, ada, "/bilan on")

        write_article(
            articles_dir, "next", "next-news", source_date="2026-11-26", title_fr="L’après"
        )
        await reload(agora)
        [french] = announcements(api, follows["id"])
        assert french.startswith(f"{FR_HEAD}{NBSP}: «{NBSP}L’après{NBSP}»\n\n")
        assert "Vendredi, à la surprise générale" in french  # the summary's first paragraph
        assert "Porté par le soutien" not in french  # not the second
        assert french.endswith(
            f"Lire le résumé{NBSP}: /resume · Les administrateurs publient les sondages avec "
            "/sondage"
        )
        [english] = announcements(api, bob["id"])
        assert english.startswith(f"{EN_HEAD}: “Article next-news (en)”")
        assert english.endswith("Read the summary: /summary · Post the polls: /poll")
        assert announcements(api, keeps["id"]) == []

        # The followers discuss it now; the chat that chose keeps its article, and its digest
        # says that a newer one is there.
        [summary] = await agora.command(follows, ada, "/resume")
        assert summary["text"].startswith("📰 L’après")
        [digest, *_] = await agora.fire_digest(keeps["id"])
        assert "Crise à la tête d’OpenAI" in digest["text"]
        assert (
            f"Un article plus récent est disponible{NBSP}: «{NBSP}L’après{NBSP}». "
            f"Pour en débattre{NBSP}: /article dernier" in digest["text"]
        )
        await reload(agora)  # nothing new: nothing sent

    async with start_agora(api, settings, clock) as agora:
        await agora.app.bot_data.announcer.send_due()
        await agora.sent_out()
        [latest] = await agora.command(keeps, ada, "/article dernier")
        assert "suit désormais le dernier article" in latest["text"]
    for chat in (follows["id"], bob["id"]):
        assert len(announcements(api, chat)) == 1
    assert announcements(api, keeps["id"]) == []


async def test_announcements_wait_for_the_morning_across_a_restart(
    api: FakeBotAPI, settings: Settings, clock: FakeClock, articles_dir: Path
) -> None:
    ada, bob = api.user(1001, "Ada"), api.user(1002, "Bob", language_code="en")
    paris, tokyo = api.private_chat(ada), api.private_chat(bob)
    clock.set("2026-11-27 06:30")  # Paris; 14:30 in Tokyo
    async with start_agora(api, settings, clock) as agora:
        await agora.command(paris, ada, "/aide")
        await agora.command(tokyo, bob, "/timezone Asia/Tokyo")
        write_article(articles_dir, "next", "next-news", source_date="2026-11-26")
        await reload(agora)
        assert announcements(api, paris["id"]) == []  # night in Paris: it waits
        assert len(announcements(api, tokyo["id"])) == 1
    engine = create_async_engine(settings.database_url)
    async with AsyncSession(engine) as session:
        waiting = list(await session.scalars(select(Announcement.status)))
    await engine.dispose()
    assert sorted(waiting) == ["queued", "waiting"]

    clock.set("2026-11-27 07:59")
    async with start_agora(api, settings, clock) as agora:
        announcer: Announcer = agora.app.bot_data.announcer
        assert await announcer.send_due() == 0
        clock.set("2026-11-27 08:00")
        assert await announcer.send_due() == 1
        await agora.sent_out()
        assert await announcer.send_due() == 0
    assert len(announcements(api, paris["id"])) == 1
    assert len(announcements(api, tokyo["id"])) == 1


def test_the_night_is_from_ten_in_the_evening_to_eight_in_the_morning() -> None:
    paris = ZoneInfo("Europe/Paris")

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=paris)

    assert due_time(at("2026-11-27 09:15"), paris) == at("2026-11-27 09:15")
    assert due_time(at("2026-11-27 21:59"), paris) == at("2026-11-27 21:59")
    assert due_time(at("2026-11-27 22:00"), paris) == at("2026-11-28 08:00")
    assert due_time(at("2026-11-27 23:30"), paris) == at("2026-11-28 08:00")
    assert due_time(at("2026-11-28 06:30"), paris) == at("2026-11-28 08:00")
