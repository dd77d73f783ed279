"""Answer latency as users live it: how long someone waits for the bot's reply while other
work is under way.

The real bot runs as a subprocess (`python -m bot`, fresh SQLite database, Telegram's flood
limits respected) against the local Bot API server, which answers every call a round trip
late (--latency) and enforces Telegram's limits: 30 messages in any second overall, 20 in any
minute per group or channel (private chats only count towards the overall limit). The
latency of an answer is the server time at which the bot's reply to that chat was accepted,
minus the time the user's message was pushed. Each scenario gets a fresh server and database.

  polls   A supergroup already got 14 messages this minute; its admin sends /sondage (an
          intro and 6 polls, which the group's limit must space out) and 0.3 s later ten users
          each send /aide in private: the slowest private answer, and when the 6th poll landed.
  burst   120 users send /aide in private at the same moment: the last answer against the
          floor of 120 messages at 30/s, and the median.
  fanout  2,000 subscribed groups' digests are due when the bot starts; a new user sends /aide
          in private every 0.5 s until every digest is out: p95 and max of those answers, the
          fan-out's pace against 30 messages/s, 429s, missing or doubled digests, peak memory.

    python -m bench.latency [--latency 0.08] [--only polls burst fanout] [--chats 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.fanout import (
    DIGEST_MARK,
    GLOBAL_PER_SECOND,
    PER_CHAT_PER_MINUTE,
    TOKEN,
    LoopLag,
    p95,
    peak_rss_mib,
    sqlite_url,
)
from bench.seed import chat_id, digest_time_passed, seed, small_groups
from storage.db import create_engine, migrate
from tests.support.botapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
HELP_MARK = "Commandes"  # in the French answer to /aide
GROUP_ID = -1009003
ADMIN_ID = 42
FIRST_USER_ID = 20_000_000
EARLIER_GROUP_MESSAGES = 14
POLLS = 6
POLL_MESSAGES = POLLS + 1  # /sondage posts an intro, then the polls
PRIVATE_ASKERS = 10
ASK_DELAY = 0.3
BURST_USERS = 120
PROBE_EVERY = 0.5
STALL = 60.0  # seconds without a chart after which the fan-out counts as stuck


@dataclass(frozen=True, slots=True)
class Options:
    latency: float
    chats: int


@dataclass(slots=True)
class Row:
    measure: str
    result: str
    floor: str = ""
    ratio: str = ""


@dataclass(slots=True)
class Report:
    scenario: str
    rows: list[Row] = field(default_factory=list)
    too_many_requests: int = 0
    notes: list[str] = field(default_factory=list)

    def timed(self, measure: str, seconds: float, floor: float, why: str) -> None:
        """A row of seconds against the least time Telegram allows (`why` says which)."""
        self.rows.append(
            Row(measure, f"{seconds:.2f} s", f"{floor:.2f} s ({why})", ratio(seconds, floor))
        )


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}" if floor > 0 else ""


# --------------------------------------------------------------------------- running the bot


@contextlib.asynccontextmanager
async def local_telegram(latency: float) -> AsyncIterator[FakeBotAPI]:
    """The local Bot API server, with a round-trip delay and Telegram's limits."""
    api = FakeBotAPI(TOKEN, latency=latency)
    await api.start()
    api.rate_limit(per_chat_per_minute=PER_CHAT_PER_MINUTE, global_per_second=GLOBAL_PER_SECOND)
    try:
        yield api
    finally:
        await api.stop()


@dataclass(slots=True)
class Bot:
    """The bot's process, and the watch on the event loop it shares with the server."""

    api: FakeBotAPI
    process: asyncio.subprocess.Process
    log: Path
    lag: LoopLag

    async def until(self, done: Callable[[], bool], what: str, timeout: float = 300) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not done():
            if self.process.returncode is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode} before {what}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} after {timeout:.0f} s")
            await asyncio.sleep(0.05)

    async def ready(self) -> None:
        await self.until(lambda: bool(self.api.calls_of("getUpdates")), "getUpdates", 60)

    def stderr(self) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]


@contextlib.asynccontextmanager
async def agora(api: FakeBotAPI, folder: Path) -> AsyncIterator[Bot]:
    """`python -m bot` against `api`, on the database `folder`/latency.db."""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_URL": sqlite_url(folder / "latency.db"),
        "RATE_LIMIT": "true",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    # The server shares this process: keep full collections of the setup's objects from
    # stalling it mid-run (a stalled server answers a backlog at once).
    gc.collect()
    gc.freeze()
    log = folder / "bot.log"
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
        bot = Bot(api, process, log, LoopLag())
        try:
            yield bot
        finally:
            bot.lag.stop()
            await stop(process)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


def finish(report: Report, api: FakeBotAPI, bot: Bot) -> None:
    """The server's and the bot's side of the run: 429s, loop lag, errors."""
    report.too_many_requests = api.too_many_requests
    report.notes.append(f"server loop lag up to {bot.lag.worst * 1000:.0f} ms")
    report.notes += [f"bot stderr: {line[:300]}" for line in bot.stderr()[:5]]
    report.notes += [f"fake Bot API: {error}" for error in api.server_errors[:5]]


# --------------------------------------------------------------------------- users and answers


def ask_help(api: FakeBotAPI, user_ids: Iterable[int]) -> dict[int, int]:
    """Each user sends /aide in their private chat: chat id -> update id."""
    asked: dict[int, int] = {}
    for user_id in user_ids:
        user = api.user(user_id, f"User {user_id}")
        asked[user_id] = api.send_text(api.private_chat(user), user, "/aide")
    return asked


def help_answers(api: FakeBotAPI, chat: int | None = None) -> dict[int, list[float]]:
    """Chat id -> the times the server accepted the bot's answers to /aide there."""
    answers: dict[int, list[float]] = {}
    for accepted, message in api.sent_times(chat_id=chat, method="sendMessage"):
        if HELP_MARK in message.get("text", ""):
            answers.setdefault(message["chat"]["id"], []).append(accepted)
    return answers


def answered(api: FakeBotAPI, asked: dict[int, int]) -> bool:
    return help_answers(api).keys() >= asked.keys()


def latencies(api: FakeBotAPI, asked: dict[int, int]) -> list[float]:
    """Seconds from each question to its answer, in the order asked (answered ones only)."""
    answers = help_answers(api)
    return [
        answers[chat][0] - api.pushed_at(update_id)
        for chat, update_id in asked.items()
        if chat in answers
    ]


def users(first: int, count: int) -> range:
    return range(FIRST_USER_ID + first, FIRST_USER_ID + first + count)


def per_chat_floor(earlier: list[float], start: float, count: int) -> float:
    """The earliest the `count`-th of new messages to one group can land from `start`, when
    `earlier` ones landed at those times and at most 20 may land in any minute."""
    landed = sorted(earlier)
    moment = start
    for _ in range(count):
        recent = [t for t in landed if t > moment - 60]
        if len(recent) >= PER_CHAT_PER_MINUTE:
            moment = recent[-PER_CHAT_PER_MINUTE] + 60
        landed.append(moment)
    return moment - start


# --------------------------------------------------------------------------- scenarios


async def polls(options: Options, folder: Path) -> Report:
    report = Report("polls")
    async with local_telegram(options.latency) as api:
        group = api.group(GROUP_ID, "Bench")
        admin = api.user(ADMIN_ID, "Admin")
        api.set_admin(GROUP_ID, admin)
        async with agora(api, folder) as bot:
            await bot.ready()
            for _ in range(EARLIER_GROUP_MESSAGES):
                api.send_text(group, admin, "/aide")
            await bot.until(
                lambda: len(api.sent(GROUP_ID)) >= EARLIER_GROUP_MESSAGES,
                "answers to the admin's /aide in the group",
            )
            earlier = [accepted for accepted, _ in api.sent_times(GROUP_ID)]
            posting = api.send_text(group, admin, "/sondage")
            await asyncio.sleep(ASK_DELAY)
            asked = ask_help(api, users(0, PRIVATE_ASKERS))
            await bot.until(
                lambda: len(api.sent(GROUP_ID, "sendPoll")) >= POLLS and answered(api, asked),
                "the polls and the private answers",
            )
            finish(report, api, bot)
    posted = api.pushed_at(posting)
    last_poll = api.sent_times(GROUP_ID, "sendPoll")[POLLS - 1][0] - posted
    window = sum(1 for accepted in earlier if accepted > posted - 60)
    report.timed(
        f"slowest of {PRIVATE_ASKERS} private /aide answers",
        max(latencies(api, asked)),
        options.latency,
        "one round trip",
    )
    report.timed(
        f"/sondage to the {POLLS}th poll (group had {window} messages in the last minute)",
        last_poll,
        per_chat_floor(earlier, posted + options.latency, POLL_MESSAGES),
        f"{PER_CHAT_PER_MINUTE} per minute in the group",
    )
    return report


async def burst(options: Options, folder: Path) -> Report:
    report = Report("burst")
    async with local_telegram(options.latency) as api, agora(api, folder) as bot:
        await bot.ready()
        warm_up = ask_help(api, users(BURST_USERS, 1))
        await bot.until(lambda: answered(api, warm_up), "answer to the warm-up /aide")
        await asyncio.sleep(1.0)  # out of the server's one-second window
        asked = ask_help(api, users(0, BURST_USERS))
        await bot.until(lambda: answered(api, asked), f"answers to the {BURST_USERS} /aide")
        finish(report, api, bot)
    waits = latencies(api, asked)
    floor = BURST_USERS / GLOBAL_PER_SECOND
    why = f"{{}} messages at {GLOBAL_PER_SECOND}/s"
    report.timed(
        f"last of {BURST_USERS} private answers", max(waits), floor, why.format(BURST_USERS)
    )
    half = BURST_USERS // 2
    report.timed(
        "median answer", statistics.median(waits), half / GLOBAL_PER_SECOND, why.format(half)
    )
    return report


async def seed_digests(folder: Path, chats: int) -> None:
    """`chats` subscribed groups whose digest time passed two minutes ago."""
    engine = create_engine(sqlite_url(folder / "latency.db"))
    await migrate(engine)
    at = digest_time_passed()
    seeded = await seed(engine, chats=chats, voters=small_groups(), ballots=True, digest_time=at)
    await engine.dispose()
    print(
        f"fanout: {seeded.chats:,} groups, {seeded.ballots:,} ballots, digest time {at} "
        f"(seeded in {seeded.seconds:.1f} s)",
        flush=True,
    )


async def probe(bot: Bot, chats: int) -> dict[int, int]:
    """A new user sends /aide in private every PROBE_EVERY s until every group has its chart
    (or no chart came for STALL s)."""
    api = bot.api
    asked: dict[int, int] = {}
    charts = 0
    changed = moment = time.monotonic()
    while charts < chats:
        if bot.process.returncode is not None:
            raise RuntimeError(f"the bot exited with {bot.process.returncode} during the fan-out")
        if api.photo_posts() != charts:
            charts, changed = api.photo_posts(), time.monotonic()
        if time.monotonic() - changed > STALL:
            print(f"fanout: no chart for {STALL:.0f} s, giving up at {charts:,}", flush=True)
            break
        asked |= ask_help(api, users(len(asked), 1))
        if len(asked) % 60 == 0:
            print(f"  {len(asked):4} probes, {charts:,}/{chats:,} charts", flush=True)
        moment += PROBE_EVERY
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
    return asked


async def fanout(options: Options, folder: Path) -> Report:
    report = Report("fanout")
    await seed_digests(folder, options.chats)
    async with local_telegram(options.latency) as api:
        for i in range(options.chats):
            api.group(chat_id(i), f"Bench group {i}")
        async with agora(api, folder) as bot:
            await bot.until(lambda: bool(api.sent()), "first digest")
            asked = await probe(bot, options.chats)
            with contextlib.suppress(TimeoutError):  # reported as unanswered
                await bot.until(lambda: answered(api, asked), "answers to the probes", 120)
            await asyncio.sleep(3)  # a late second copy of a digest would show by now
            memory = peak_rss_mib(bot.process.pid)
            finish(report, api, bot)
    waits = latencies(api, asked)
    report.rows.append(Row("private /aide answered", f"{len(waits)} of {len(asked)}"))
    report.timed("p95 private answer", p95(waits), options.latency, "one round trip")
    report.timed("slowest private answer", max(waits), options.latency, "one round trip")
    add_delivery_rows(report, api, options.chats)
    report.rows.append(Row("bot peak RSS", f"{memory:.0f} MiB"))
    return report


def add_delivery_rows(report: Report, api: FakeBotAPI, chats: int) -> None:
    to_groups = [(accepted, m) for accepted, m in api.sent_times() if m["chat"]["id"] < 0]
    digests = [(t, m) for t, m in to_groups if m.get("text", "").startswith(DIGEST_MARK)]
    first, last = digests[0][0], to_groups[-1][0]
    private = sum(
        1 for accepted, m in api.sent_times() if first <= accepted <= last and m["chat"]["id"] > 0
    )
    # The answers share Telegram's 30 messages/s with the digests: the floor counts both.
    messages = len(to_groups) + private
    report.timed(
        f"fan-out of {len(to_groups):,} digest messages (+ {private} answers), first to last",
        last - first,
        messages / GLOBAL_PER_SECOND,
        f"{messages:,} messages at {GLOBAL_PER_SECOND}/s",
    )
    per_group = Counter(m["chat"]["id"] for _, m in digests)
    doubled = sum(1 for count in per_group.values() if count > 1)
    charts = len({m["chat"]["id"] for _, m in to_groups if "photo" in m})
    report.rows.append(
        Row(
            "groups with no digest / two / no chart",
            f"{chats - len(per_group)} / {doubled} / {chats - charts}",
            "0 / 0 / 0",
        )
    )


# --------------------------------------------------------------------------- output


SCENARIOS: dict[str, Callable[[Options, Path], Awaitable[Report]]] = {
    "polls": polls,
    "burst": burst,
    "fanout": fanout,
}


def table(report: Report) -> str:
    lines = [
        f"### {report.scenario}",
        "",
        "| measure | result | baseline / floor | ratio |",
        "|---|---|---|---|",
    ]
    rows = [*report.rows, Row("429 answers from the server", str(report.too_many_requests), "0")]
    lines += [f"| {r.measure} | {r.result} | {r.floor} | {r.ratio} |" for r in rows]
    lines += [f"\n{note}" for note in report.notes]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.08, help="round trip of a call, s")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    parser.add_argument("--chats", type=int, default=2000, help="groups in the fanout scenario")
    arguments = parser.parse_args()
    await run_scenarios(SCENARIOS, arguments.only, Options(arguments.latency, arguments.chats))


async def run_scenarios(
    scenarios: dict[str, Callable[[Options, Path], Awaitable[Report]]],
    only: list[str],
    options: Options,
) -> None:
    """Run the scenarios named, each in a folder of its own, then print their tables."""
    started = time.perf_counter()
    reports = []
    for name in only:
        print(f"{name}: running", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            reports.append(await scenarios[name](options, Path(folder)))
        print(f"{name}: done", flush=True)
    print()
    print(
        f"round trip {options.latency * 1000:.0f} ms, SQLite, {os.cpu_count()} cores; "
        f"whole run {time.perf_counter() - started:.0f} s"
    )
    for report in reports:
        print()
        print(table(report))

if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
