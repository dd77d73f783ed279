"""Vote throughput: the real bot against a bare python-telegram-bot Application, same run.

Starts the local Bot API server, runs each bot as a subprocess against it, queues N poll
answers from distinct users and times how long until the bot shows them all (/results for
Agora, a "done" message for the bare application). Prints both rates, their ratio, and the
bot's peak memory.

    python -m bench.throughput [--votes 20000] [--database-url URL] [--latency 0.08]

With --latency, the server answers every call that much later (a round trip to Telegram,
getUpdates included), for both bots.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.settings import async_database_url
from storage.models import InboxUpdate
from tests.support.botapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHbenchTokenNotRealxxxxxxxxxxxxxxxxxx"
ADMIN_ID = 42
QUESTIONS = 6


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def spawn(api: FakeBotAPI, *args: str, database_url: str = "") -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, cwd=ROOT, stderr=asyncio.subprocess.DEVNULL
    )


async def wait_for_text(api: FakeBotAPI, chat_id: int, pattern: str) -> str:
    """Poll the server's record of sent messages (the bare app offers nothing to wait on)."""
    async with asyncio.timeout(600):
        while True:
            for message in reversed(api.sent(chat_id=chat_id)):
                text = message.get("text", "")
                if re.search(pattern, text):
                    return str(text)
            await asyncio.sleep(0.005)


def push_votes(api: FakeBotAPI, polls: list[dict], votes: int) -> None:
    for i in range(votes):
        poll = polls[i % len(polls)]
        user = {"id": 10_000_000 + i, "is_bot": False, "first_name": f"U{i}", "language_code": "fr"}
        api.push_update(
            {
                "poll_answer": {
                    "poll_id": poll["id"],
                    "user": user,
                    "option_ids": [i % 3],
                    "option_persistent_ids": [poll["options"][i % 3]["persistent_id"]],
                }
            }
        )


async def bench_bare(votes: int, latency: float) -> tuple[float, float]:
    api = FakeBotAPI(TOKEN, latency=latency)
    await api.start()
    group = api.group(-1009001, "Bench")
    admin = api.user(ADMIN_ID, "Admin")
    process = await spawn(api, "-m", "bench.bare_app", str(votes), str(group["id"]))
    # The bare application reads the answers and ignores them: any poll ids will do.
    polls = [
        {"id": f"{i}", "options": [{"persistent_id": f"p{k}"} for k in range(4)]} for i in range(6)
    ]
    await api.wait_acked(api.send_text(group, admin, "warm-up"), timeout=60)
    start = time.perf_counter()
    push_votes(api, polls, votes)
    await wait_for_text(api, group["id"], r"^done$")
    elapsed = time.perf_counter() - start
    memory = peak_rss_mib(process.pid)
    process.terminate()
    await process.wait()
    await api.stop()
    return votes / elapsed, memory


def all_chats_totals(api: FakeBotAPI, chat_id: int, after: int) -> list[str]:
    text = "\n".join(m.get("text", "") for m in api.sent(chat_id=chat_id)[after:])
    # "Total\xa0: 20\u202f000 votants", the all-chats line of each question
    return re.findall(r"Total\xa0: ([\d\u202f\xa0 ]+) votants", text)


async def inbox_drained(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    try:
        async with asyncio.timeout(600):
            while True:
                async with engine.connect() as connection:
                    waiting = await connection.scalar(
                        select(func.count()).where(InboxUpdate.set_aside.is_(None))
                    )
                if not waiting:
                    return
                await asyncio.sleep(0.01)
    finally:
        await engine.dispose()


async def bench_agora(votes: int, database_url: str, latency: float) -> tuple[float, float]:
    api = FakeBotAPI(TOKEN, latency=latency)
    await api.start()
    group = api.group(-1009002, "Bench")
    admin = api.user(ADMIN_ID, "Admin")
    api.set_admin(group["id"], admin)
    process = await spawn(api, "-m", "bot", database_url=database_url)
    await api.wait_acked(api.send_text(group, admin, "/sondage"), timeout=60)
    async with asyncio.timeout(60):  # the polls go out once the command is committed
        while len(api.sent(method="sendPoll")) < QUESTIONS:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    polls = [m["poll"] for m in api.sent(method="sendPoll")]
    start = time.perf_counter()
    push_votes(api, polls, votes)
    await api.wait_acked(api._next_update_id - 1, timeout=600)
    acknowledged = time.perf_counter() - start
    # Acknowledged means stored: wait until the inbox is empty (every answer applied) before
    # asking, rather than asking again and again into the group's 20 messages a minute.
    await inbox_drained(database_url)
    drained = time.perf_counter() - start
    print(f"Agora: all acknowledged after {acknowledged:.2f} s, handled after {drained:.2f} s")
    expected = f"{votes:,}".replace(",", "\u202f")
    # Ask until the results show every vote, as a user would.
    deadline = time.perf_counter() + 600
    while True:
        sent_before = len(api.sent(chat_id=group["id"]))
        await api.wait_acked(api.send_text(group, admin, "/resultats"), timeout=600)
        async with asyncio.timeout(60):  # every question's line of the answer
            while len(totals := all_chats_totals(api, group["id"], sent_before)) < QUESTIONS:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        total = sum(int(re.sub(r"\D", "", t)) for t in totals)
        if total >= votes or time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - start
    memory = peak_rss_mib(process.pid)
    process.terminate()
    await process.wait()
    await api.stop()
    assert total == votes, f"results show {total} of {votes} votes ({expected})"
    return votes / elapsed, memory


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--latency", type=float, default=0.0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        bare_rate, bare_memory = await bench_bare(arguments.votes, arguments.latency)
        agora_rate, agora_memory = await bench_agora(arguments.votes, url, arguments.latency)
    backend = url.split(":", 1)[0]
    print(
        f"votes: {arguments.votes:,} from distinct users, database: {backend}, "
        f"round trip {arguments.latency * 1000:.0f} ms"
    )
    print(f"bare PTB application: {bare_rate:8.0f} answers/s  peak RSS {bare_memory:6.1f} MiB")
    print(f"Agora               : {agora_rate:8.0f} answers/s  peak RSS {agora_memory:6.1f} MiB")
    print(f"ratio Agora / bare  : {agora_rate / bare_rate:8.1%}")


if __name__ == "__main__":
    asyncio.run(main())
