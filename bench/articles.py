"""Articles folder: reloading 500 articles, and announcing a new one to 2,000 chats.

Part 1 (reload) writes 500 article files (variants of the packaged one) into a folder and
times `bot.core.library.scan` over it (what a reload reads and validates), with the peak of
Python allocations during the scan and what the loaded library keeps; the baseline is the
same folder with one article, times 500 (a ratio of 1: the cost is linear).

Part 2 (announcement) runs the real bot in-process against the local Bot API server (which
answers 429 beyond 30 messages/s overall or 20 a minute per group), with the flood limits
on, 2,000 groups following the latest article, then adds an article to the folder and
reloads: the time from the reload to the last announcement accepted by the server, against
the floor Telegram's global limit sets (2,000 / 30 s).

    python -m bench.articles [--articles 500] [--chats 2000] [--skip-reload] [--skip-announce]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import insert

from bot.core.library import scan
from bot.core.settings import Settings
from storage.models import Chat
from tests.support.articles import write_article
from tests.support.botapi import FakeBotAPI
from tests.support.harness import start_agora

TOKEN = "123456789:AAHbenchTokenNotRealxxxxxxxxxxxxxxxxxx"
GLOBAL_PER_SECOND = 30
HEAD = "📰"


def write_folder(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        day = f"20{10 + index % 15:02d}-{1 + index % 12:02d}-{1 + index % 28:02d}"
        write_article(folder, f"article-{index:04d}", f"article-{index:04d}", source_date=day)


def time_scan(folder: Path, runs: int = 3) -> tuple[float, float, float]:
    """(median seconds, peak MiB allocated during a scan, MiB the library keeps)."""
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        scan(folder)
        times.append(time.perf_counter() - started)
    gc.collect()
    tracemalloc.start()
    library = scan(folder).library
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert library.articles
    return statistics.median(times), peak / 2**20, kept / 2**20


def reload_part(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        many, one = Path(tmp) / "many", Path(tmp) / "one"
        write_folder(many, count)
        write_folder(one, 1)
        baseline, base_peak, base_kept = time_scan(one, runs=7)
        seconds, peak, kept = time_scan(many)
    print(f"reload of {count} articles: {seconds:.2f} s ({seconds / count * 1000:.1f} ms each)")
    ratio = seconds / count / baseline
    print(f"  / ({count} x one article, {baseline * 1000:.1f} ms): {ratio:.2f}")
    print(f"  peak Python allocations during the scan: {peak:.1f} MiB (one: {base_peak:.2f})")
    print(f"  kept by the loaded library: {kept:.1f} MiB (one article: {base_kept:.2f})")


async def announce_part(chats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "articles"
        folder.mkdir()
        api = FakeBotAPI(TOKEN)
        await api.start()
        settings = Settings(
            bot_token=TOKEN,  # type: ignore[arg-type]
            telegram_api_url=api.url,
            database_url=f"sqlite+aiosqlite:///{tmp}/agora.db",
            rate_limit=True,
            articles_dir=folder,
            _env_file=None,  # type: ignore[call-arg]
        )
        ids = [-1_000_000_000_000 - index for index in range(chats)]
        for chat_id in ids:
            api.group(chat_id, f"Groupe {chat_id}")
        try:
            async with start_agora(api, settings) as agora:
                async with agora.engine.begin() as connection:
                    await connection.execute(
                        insert(Chat),
                        [
                            {
                                "id": chat_id,
                                "type": "supergroup",
                                "title": f"Groupe {chat_id}",
                                "active": True,
                                "digest_enabled": False,
                                "follows_latest": True,
                            }
                            for chat_id in ids
                        ],
                    )
                write_article(folder, "next", "next-news", source_date="2030-01-01")
                before = len(api.sent())
                started = time.monotonic()
                await agora.app.bot_data.reloader.reload("bench")
                queued_after = time.monotonic() - started
                while True:
                    sent = api.sent_times()[before:]
                    told = [t for t, m in sent if m.get("text", "").startswith(HEAD)]
                    if len(told) >= chats:
                        break
                    await asyncio.sleep(0.2)
                last = max(told) - started
                assert await agora.app.bot_data.announcer.send_due() == 0
                per_chat = {m["chat"]["id"] for _, m in sent if m.get("text", "").startswith(HEAD)}
        finally:
            await api.stop()
    floor = chats / GLOBAL_PER_SECOND
    print(f"announcement to {chats} following chats: planned and queued in {queued_after:.2f} s")
    print(f"  last one accepted after {last:.1f} s; floor {floor:.1f} s; ratio {last / floor:.2f}")
    print(f"  chats told: {len(per_chat)} (each once: {len(told) == len(per_chat)})")
    print(f"  429 answers from the server: {api.too_many_requests}")


def main() -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # as `python -m bot` runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--skip-reload", action="store_true")
    parser.add_argument("--skip-announce", action="store_true")
    arguments = parser.parse_args()
    if not arguments.skip_reload:
        reload_part(arguments.articles)
    if not arguments.skip_announce:
        asyncio.run(announce_part(arguments.chats))


if __name__ == "__main__":
    main()
