"""Digest fan-out: delivering thousands of daily digests at once, and what one digest costs.

Part 1 (delivery) seeds 2,000 subscribed groups whose digest time passed two minutes ago,
starts the real bot as a subprocess against the local Bot API server (which answers 429 like
Telegram beyond 30 messages/s overall or 20 per group and minute), and times the start-up
catch-up until every group has its digest text and chart. The baseline is the least time
Telegram's global limit allows: messages / 30 s.

Part 2 (compute) composes digests in-process from a database holding 1,000,000 ballots and
from one holding 10,000 (same groups and polls), interleaved so both see the same machine
load: time and peak memory of `bot.digests.compose.compose`, and the time to draw one chart.
The ratio 1M / 10k is about 1 when the cost does not grow with the number of votes.

    python -m bench.fanout [--chats 2000] [--votes 1000000] [--skip-delivery] [--skip-compute]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bench.seed import (
    ARTICLE_ID,
    TIMEZONE,
    chat_id,
    digest_time_passed,
    seed,
    small_groups,
    spread,
)
from bot.core.library import Library, load_library
from bot.core.settings import Settings
from bot.digests.chart import draw_chart
from bot.digests.compose import AllChats, ComposedDigest
from bot.digests.compose import compose as compose_digest
from storage.db import Database, create_engine, migrate
from storage.models import Chat, SentDigest
from storage.polls import article_results
from tests.support.botapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHbenchTokenNotRealxxxxxxxxxxxxxxxxxx"
GLOBAL_PER_SECOND = 30
PER_CHAT_PER_MINUTE = 20
DIGEST_MARK = "🗞"
BASELINE_VOTES = 10_000
COMPOSE_TARGET_MS = 50.0
STALL = 60.0  # seconds without a message after which the fan-out is reported incomplete


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class LoopLag:
    """The longest the event loop (which also runs the local Bot API server) was late.

    A stalled server answers a backlog of requests at once, as if they had been sent at once:
    its 429 answers would then say nothing about the bot."""

    def __init__(self, tick: float = 0.01) -> None:
        self.tick = tick
        self.recent = 0.0
        self.worst = 0.0
        self._task = asyncio.ensure_future(self._watch())

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.tick)
            late = time.perf_counter() - before - self.tick
            self.recent = max(self.recent, late)
            self.worst = max(self.worst, late)

    def take(self) -> float:
        recent, self.recent = self.recent, 0.0
        return recent

    def stop(self) -> None:
        self._task.cancel()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# --------------------------------------------------------------------------- part 1: delivery


@dataclass(slots=True)
class Delivery:
    chats: int
    messages: int = 0
    photos: int = 0
    from_start: float = math.nan
    from_first: float = math.nan
    too_many_requests: int = 0
    peak_rss_mib: float = math.nan
    duplicates: int = 0
    missing: int = 0
    recorded: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    server_lag: float = math.nan
    setup: float = 0.0
    complete: bool = False

    @property
    def minimum(self) -> float:
        return self.messages / GLOBAL_PER_SECOND

    @property
    def ratio(self) -> float:
        return self.from_first / self.minimum if self.messages else math.nan


async def deliver_all(chats: int, folder: Path, limit: float) -> Delivery:
    result = Delivery(chats)
    started = time.perf_counter()
    url = sqlite_url(folder / "fanout.db")
    engine = create_engine(url)
    await migrate(engine)
    at = digest_time_passed()
    seeded = await seed(engine, chats=chats, voters=small_groups(), ballots=True, digest_time=at)
    await engine.dispose()
    print(
        f"delivery: {seeded.chats:,} groups, {seeded.polls:,} polls, {seeded.ballots:,} ballots, "
        f"digest time {at} {TIMEZONE} (seeded in {seeded.seconds:.1f} s)",
        flush=True,
    )

    api = FakeBotAPI(TOKEN)
    await api.start()
    for i in range(chats):
        api.group(chat_id(i), f"Bench group {i}")
    api.rate_limit(per_chat_per_minute=PER_CHAT_PER_MINUTE, global_per_second=GLOBAL_PER_SECOND)
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_URL": url,
        "RATE_LIMIT": "true",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    log_path = folder / "bot.log"
    # The server shares this process: keep full collections of the setup's objects from
    # stalling it mid-run (a stalled server answers a backlog at once, which looks like a burst).
    gc.collect()
    gc.freeze()
    result.setup = time.perf_counter() - started
    with log_path.open("wb") as log:
        start = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
        first: float | None = None
        photos = messages = 0
        changed = report = start
        deadline = start + limit
        lag = LoopLag()
        try:
            while True:
                now = time.perf_counter()
                if first is None and any(
                    m.get("text", "").startswith(DIGEST_MARK)
                    for m in api.sent(method="sendMessage")
                ):
                    first = now
                if len(api.sent()) != messages:
                    messages, changed = len(api.sent()), now
                photos = api.photo_posts()
                if photos >= chats:
                    result.complete = True
                    break
                if process.returncode is not None:
                    print(f"delivery: the bot exited with {process.returncode}", flush=True)
                    break
                if now > deadline:
                    print(f"delivery: timed out after {limit:.0f} s", flush=True)
                    break
                if first is not None and now - changed > STALL:
                    print(f"delivery: nothing sent for {STALL:.0f} s, giving up", flush=True)
                    break
                if now - report >= 10:
                    report += 10
                    print(
                        f"  {now - start:6.0f} s: {photos:5,}/{chats:,} charts, "
                        f"{messages:6,} messages, 429 answers: {api.too_many_requests}, "
                        f"server loop lag up to {lag.take() * 1000:.0f} ms",
                        flush=True,
                    )
                await asyncio.sleep(0.05 if first is None else 0.2)
            end = time.perf_counter() if result.complete else changed
            result.from_start = end - start
            result.from_first = end - (first if first is not None else start)
            result.server_lag = lag.worst
            # A late second copy would show within moments: leave it the time to arrive.
            await asyncio.sleep(3)
            if process.returncode is None:
                result.peak_rss_mib = peak_rss_mib(process.pid)
        finally:
            lag.stop()
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()

    sent = api.sent()
    result.messages = len(sent)
    result.photos = api.photo_posts()
    result.too_many_requests = api.too_many_requests
    digests = Counter(m["chat"]["id"] for m in sent if m.get("text", "").startswith(DIGEST_MARK))
    result.duplicates = sum(1 for count in digests.values() if count > 1)
    result.missing = sum(1 for i in range(chats) if digests[chat_id(i)] == 0)
    result.warnings = [
        line for line in log_path.read_text(errors="replace").splitlines() if line.strip()
    ]
    result.warnings += [f"fake Bot API: {error}" for error in api.server_errors]
    await api.stop()

    engine = create_engine(url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(SentDigest.status, func.count()).group_by(SentDigest.status)
        )
        result.recorded = {status: count for status, count in rows}
    await engine.dispose()
    return result


def print_delivery(result: Delivery) -> None:
    print(
        f"delivery: {result.messages:,} messages ({result.photos:,} charts) in "
        f"{result.from_first:.1f} s from the first digest, {result.from_start:.1f} s from the "
        f"bot's start; minimum at {GLOBAL_PER_SECOND}/s {result.minimum:.1f} s, "
        f"ratio {result.ratio:.2f}" + ("" if result.complete else " (INCOMPLETE)"),
        flush=True,
    )
    print(
        f"delivery: 429 answers {result.too_many_requests}, groups with two digests "
        f"{result.duplicates}, without one {result.missing}, without a chart "
        f"{result.chats - result.photos}, recorded {result.recorded}, bot peak RSS "
        f"{result.peak_rss_mib:.0f} MiB, server loop lag up to {result.server_lag * 1000:.0f} ms",
        flush=True,
    )
    if result.warnings:
        print(f"delivery: {len(result.warnings)} lines on the bot's stderr, the first ones:")
        for line in result.warnings[:5]:
            print(f"  {line[:300]}")


# --------------------------------------------------------------------------- part 2: compute


@dataclass(slots=True)
class Digests:
    """One database and the real pieces that compose its digests."""

    label: str
    votes: int
    library: Library
    language: str
    database: Database
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    peak_kib: float = math.nan
    chart: list[float] = field(default_factory=list)
    png_bytes: int = 0
    everywhere: list[float] = field(default_factory=list)
    everywhere_numbers: AllChats = field(default_factory=AllChats)


async def open_digests(label: str, votes: int, chats: int, folder: Path) -> Digests:
    url = sqlite_url(folder / f"compute-{label}.db")
    database = Database(url)
    await database.migrate()
    seeded = await seed(
        database.engine,
        chats=chats,
        voters=spread(votes, chats, 6),
        ballots=True,
        digest_time=digest_time_passed(),
    )
    size = (folder / f"compute-{label}.db").stat().st_size / 2**20
    print(
        f"compute: {label} database: {seeded.ballots:,} ballots in {seeded.polls:,} polls, "
        f"{seeded.tallies:,} tallies, {size:.0f} MiB (seeded in {seeded.seconds:.1f} s)",
        flush=True,
    )
    settings = Settings(bot_token=TOKEN, database_url=url)  # type: ignore[arg-type]
    return Digests(
        label, seeded.ballots, load_library(), settings.default_language, database
    )


async def compose(digests: Digests, chat: int, *, cold: bool) -> tuple[float, ComposedDigest]:
    """Seconds one compose takes, in a transaction like a delivery's (a cold one reads every
    chat's numbers again, as the first digest of a fan-out does)."""
    day = datetime.now(ZoneInfo(TIMEZONE)).date()
    if cold:
        digests.everywhere_numbers = AllChats()
    async with digests.database.transaction() as session:
        found = await session.get(Chat, chat)
        assert found is not None, chat
        start = time.perf_counter()
        digest = await compose_digest(
            session, found, day, digests.library, digests.language, digests.everywhere_numbers
        )
        return time.perf_counter() - start, digest


async def measure(sets: list[Digests], chats: int, samples: int) -> None:
    step = max(1, (chats - 1) // max(1, samples - 1))
    picked = [chat_id(min(chats - 1, k * step)) for k in range(samples)]
    for digests in sets:  # statements compiled, locale data and pages loaded
        for chat in picked[:3]:
            await compose(digests, chat, cold=True)
    # Interleaved, so that both databases see the same moments of a noisy machine.
    for cold in (True, False):
        for chat in picked:
            for digests in sets:
                seconds, _ = await compose(digests, chat, cold=cold)
                (digests.cold if cold else digests.warm).append(seconds)
    # The part of a cold compose that reads every chat's tallies (the all-chats numbers).
    for _ in range(10):
        for digests in sets:
            async with digests.database.transaction() as session:
                start = time.perf_counter()
                await article_results(session, ARTICLE_ID)
                digests.everywhere.append(time.perf_counter() - start)
    for digests in sets:
        gc.collect()
        tracemalloc.start()
        await compose(digests, picked[len(picked) // 2], cold=True)
        digests.peak_kib = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    for digests in sets:
        _, digest = await compose(digests, picked[0], cold=False)
        assert digest.chart is not None, "the chart needs votes"
        digests.png_bytes = sum(map(len, draw_chart(digest.chart)))
        for _ in range(10):
            start = time.perf_counter()
            draw_chart(digest.chart)
            digests.chart.append(time.perf_counter() - start)


async def compute_all(chats: int, votes: int, samples: int, folder: Path) -> list[Digests]:
    baseline = await open_digests("10k", BASELINE_VOTES, chats, folder)
    big = await open_digests(
        f"{votes / 1e6:g}M" if votes >= 10**6 else str(votes), votes, chats, folder
    )
    sets = [big, baseline]
    try:
        await measure(sets, chats, samples)
    finally:
        for digests in sets:
            await digests.database.dispose()
    return sets


def ms(seconds: list[float], how: str = "median") -> float:
    return 1000 * (statistics.median(seconds) if how == "median" else p95(seconds))


def print_compute(big: Digests, baseline: Digests) -> None:
    for digests in (big, baseline):
        print(
            f"compute: {digests.label:>4} ballots: compose cold {ms(digests.cold):6.1f} ms "
            f"(p95 {ms(digests.cold, 'p95'):6.1f}), warm {ms(digests.warm):6.1f} ms "
            f"(p95 {ms(digests.warm, 'p95'):6.1f}), peak {digests.peak_kib:7.0f} KiB, "
            f"chart {ms(digests.chart):6.1f} ms ({digests.png_bytes / 1024:.0f} KiB PNG), "
            f"all-chats numbers alone {ms(digests.everywhere):6.1f} ms",
            flush=True,
        )


# --------------------------------------------------------------------------- summary


def summary(delivery: Delivery | None, sets: list[Digests] | None) -> str:
    rows = [
        "| measure | result | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    if delivery is not None:
        d = delivery
        done = "" if d.complete else f" (INCOMPLETE: {d.photos:,} charts)"
        rows += [
            f"| fan-out of {d.chats:,} digests ({d.messages:,} messages), from the first digest "
            f"| {d.from_first:.1f} s{done} | {d.minimum:.1f} s at {GLOBAL_PER_SECOND} msg/s "
            f"| {d.ratio:.2f} | ≈ 1 |",
            f"| same, from the bot's start | {d.from_start:.1f} s | {d.minimum:.1f} s "
            f"| {d.from_start / d.minimum if d.messages else math.nan:.2f} | |",
            f"| 429 answers | {d.too_many_requests} | | | 0 |",
            f"| groups with two digests / none / no chart | {d.duplicates} / {d.missing} / "
            f"{d.chats - d.photos} | | | 0 / 0 / 0 |",
            f"| bot peak RSS | {d.peak_rss_mib:.0f} MiB | | | |",
        ]
    if sets is not None:
        big, base = sets
        label = f"{big.votes:,} vs {base.votes:,} ballots"

        def row(name: str, a: float, b: float, unit: str, target: str = "") -> str:
            cells = [f"{name} ({label})", f"{a:.1f} {unit}", f"{b:.1f} {unit}", f"{a / b:.2f}"]
            return "| " + " | ".join([*cells, target]) + " |"

        rows += [
            row(
                "compose, cold, median",
                ms(big.cold),
                ms(base.cold),
                "ms",
                f"< {COMPOSE_TARGET_MS:.0f} ms",
            ),
            row("compose, cold, p95", ms(big.cold, "p95"), ms(base.cold, "p95"), "ms"),
            row("compose, warm, median", ms(big.warm), ms(base.warm), "ms"),
            row("compose, warm, p95", ms(big.warm, "p95"), ms(base.warm, "p95"), "ms"),
            row(
                "all-chats numbers alone (part of cold)",
                ms(big.everywhere),
                ms(base.everywhere),
                "ms",
            ),
            row("compose, peak memory", big.peak_kib, base.peak_kib, "KiB", "≈ 1"),
            row("chart drawing, median of 10", ms(big.chart), ms(base.chart), "ms"),
        ]
    return "\n".join(rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50, help="chats composed per database")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for part 1")
    parser.add_argument("--skip-delivery", action="store_true")
    parser.add_argument("--skip-compute", action="store_true")
    arguments = parser.parse_args()
    started = time.perf_counter()
    delivery: Delivery | None = None
    sets: list[Digests] | None = None
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if not arguments.skip_delivery:
            delivery = await deliver_all(arguments.chats, folder, arguments.timeout)
            print_delivery(delivery)
        if not arguments.skip_compute:
            sets = await compute_all(arguments.chats, arguments.votes, arguments.samples, folder)
            print_compute(*sets)
    print()
    print(
        f"SQLite, {os.cpu_count()} cores, {arguments.chats:,} groups; whole run "
        f"{time.perf_counter() - started:.0f} s"
    )
    print()
    print(summary(delivery, sets))
    if delivery is not None and not delivery.complete:
        sys.exit(1)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
