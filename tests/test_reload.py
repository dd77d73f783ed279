"""Reloading the articles while the bot runs: SIGHUP, and the folder watched every minute."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from bot.articles.reload import FOLDER_CHECK_EVERY, ArticleReloader
from tests.support.articles import article_text, write_article
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora


def reloader(agora: Agora) -> ArticleReloader:
    return agora.app.bot_data.reloader


async def sighup(agora: Agora) -> None:
    """Send the bot (this process) SIGHUP and wait until it has reloaded."""
    before = reloader(agora).reloads
    os.kill(os.getpid(), signal.SIGHUP)
    async with asyncio.timeout(10):
        while reloader(agora).reloads == before:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await agora.sent_out()
    agora.new_messages()  # (an announcement of a new article, tested elsewhere)


async def test_sighup_takes_valid_files_and_logs_invalid_ones(
    agora: Agora, api: FakeBotAPI, articles_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    [listing] = await agora.command(chat, alice, "/articles")
    assert "next-news" not in listing["text"]

    write_article(articles_dir, "next", "next-news", source_date="2026-11-01")
    write_article(articles_dir, "gone", "gone-news", source_date="2026-11-02", retired=True)
    broken = article_text("broken-news").replace('"Justifié", ', f'"{"o" * 101}", ', 1)
    (articles_dir / "broken.toml").write_text(broken, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="bot.articles.reload"):
        await sighup(agora)
    assert (
        f"article left out: {articles_dir / 'broken.toml'}: questions[2].options.fr[1]: "
        "101 characters, at most 100 allowed" in caplog.messages
    )

    [listing] = await agora.command(chat, alice, "/articles")
    assert "next-news" in listing["text"]
    assert "gone-news" not in listing["text"]  # retired
    assert "broken-news" not in listing["text"]
    # The chat never chose: it follows the latest article, the new one (not the retired one).
    [summary] = await agora.command(chat, alice, "/resume")
    assert summary["text"].startswith("📰 Article next-news")
    [refused] = await agora.command(chat, alice, "/article broken-news")
    assert "Aucun article" in refused["text"]

    # A valid file broken later: its previous version stays, the bot keeps answering.
    (articles_dir / "next.toml").write_text("id = [", encoding="utf-8")
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="bot.articles.reload"):
        await sighup(agora)
    assert any(
        "next.toml: not valid TOML" in m and "previous version stays loaded" in m
        for m in caplog.messages
    )
    [listing] = await agora.command(chat, alice, "/articles")
    assert "next-news" in listing["text"]

    # Removed: no longer listed, nothing stored is touched.
    (articles_dir / "next.toml").unlink()
    await sighup(agora)
    [listing] = await agora.command(chat, alice, "/articles")
    assert "next-news" not in listing["text"]
    assert "openai-board-2023-11" in listing["text"]


async def test_a_changed_folder_is_reloaded_by_the_minute_check(
    agora: Agora, articles_dir: Path
) -> None:
    watcher = reloader(agora)
    [job] = agora.app.job_queue.get_jobs_by_name("articles")
    assert job.job.trigger.interval.total_seconds() == FOLDER_CHECK_EVERY
    assert not await watcher.check_folder()
    write_article(articles_dir, "next", "next-news", source_date="2026-11-01")
    assert await watcher.check_folder()
    assert agora.app.bot_data.services.library.get("next-news") is not None
    assert not await watcher.check_folder()
    (articles_dir / "next.toml").write_text(
        article_text("next-news", retired=True), encoding="utf-8"
    )
    assert await watcher.check_folder()
    assert agora.app.bot_data.services.library.get("next-news").retired
