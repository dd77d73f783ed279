"""Hostile users: what the others wait for while one person floods the bot.

The same machinery as bench.latency (the real bot as a subprocess, the local Bot API server
a round trip late and enforcing Telegram's limits, a fresh SQLite database per scenario).

  flood   A group holds 3,000 opinions; one member pages through them (30 presses of
          "older", each once the previous one was answered) while, in a second group, another
          member sends /aide 30 times at once and, 0.5 s later, that group's admin sends
          /resultats; meanwhile a new user sends /aide in private every 0.25 s. The slowest
          private answer (target < 1 s) and the admin's wait (target < 5 s).
  camps   Groups of 20,000 and 5,000 voters. The second group's /camps alone, then the same
          while a member of the first sends /camps tous 20 times at once from a private
          chat: the ratio of the two (target <= 2) and the bot's peak memory before and after
          (target: + 50 MiB at most).

    python -m bench.hostile [--latency 0.08] [--only flood camps]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.fanout import peak_rss_mib, sqlite_url
from bench.latency import (
    Options,
    Report,
    Row,
    agora,
    ask_help,
    finish,
    latencies,
    local_telegram,
    run_scenarios,
    users,
)
from bench.seed import ARTICLE_ID, chat_id, seed
from storage.db import create_engine, migrate
from storage.models import Opinion

OPINIONS = 3_000
PRESSES = 30
SPAM = 30
PROBE_EVERY = 0.25
BIG, SMALL = 20_000, 5_000  # voters of the two groups of `camps`
REQUESTS = 20
ADMIN_ID, PAGER_ID, SPAMMER_ID = 42, 43, 44


async def seed_groups(folder: Path, voters: tuple[int, int], opinions: int) -> None:
    """Two subscribed groups whose polls were answered by `voters` people; `opinions`
    opinions in the first."""
    engine = create_engine(sqlite_url(folder / "latency.db"))
    await migrate(engine)
    await seed(
        engine, chats=2, voters=lambda index, _question: voters[index], ballots=True,
        digest_time="03:00",
    )
    start = datetime.now(UTC) - timedelta(days=3)
    keys = [None, "opinion", "firing", None]
    rows = [
        {
            "chat_id": chat_id(0),
            "message_id": 10_000 + n,
            "article_id": ARTICLE_ID,
            "question_key": keys[n % len(keys)],
            "user_id": 30_000_000 + n,
            "author": f"Membre {n}",
            "text": f"Avis {n} : " + "une réflexion argumentée " * (n % 12 + 1),
            "created_at": start + timedelta(seconds=60 * n),
        }
        for n in range(opinions)
    ]
    if rows:
        async with engine.begin() as connection:
            await connection.execute(insert(Opinion.__table__), rows)
    await engine.dispose()


async def answer_to(api, chat: int, after: float, mark: str, timeout: float = 120) -> float:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    """When the server accepted the first message to `chat` holding `mark` after `after`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for accepted, message in api.sent_times(chat_id=chat, method="sendMessage"):
            if accepted > after and mark in message.get("text", ""):
                return accepted
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no answer holding {mark!r} in chat {chat}")


async def flood(options: Options, folder: Path) -> Report:
    report = Report("flood")
    await seed_groups(folder, (40, 40), OPINIONS)
    async with local_telegram(options.latency) as api:
        paged = api.group(chat_id(0), "Bench 0")
        spammed = api.group(chat_id(1), "Bench 1")
        admin, pager = api.user(ADMIN_ID, "Admin"), api.user(PAGER_ID, "Pager")
        spammer = api.user(SPAMMER_ID, "Spammer")
        api.set_admin(chat_id(1), admin)
        async with agora(api, folder) as bot:
            await bot.ready()
            api.send_text(paged, pager, "/opinions")
            await bot.until(lambda: bool(api.sent(chat_id(0))), "the first page")
            listing = api.sent(chat_id(0))[0]
            asked: dict[int, int] = {}
            stop = asyncio.Event()

            async def probe() -> None:
                n = 0
                while not stop.is_set():
                    asked.update(ask_help(api, users(n, 1)))
                    n += 1
                    await asyncio.sleep(PROBE_EVERY)

            async def page() -> None:
                for _ in range(PRESSES):
                    stored = api.messages[(chat_id(0), listing["message_id"])]
                    buttons = stored.get("reply_markup", {}).get("inline_keyboard", [[]])[0]
                    older = [b for b in buttons if b["text"].startswith("Plus anciens")]
                    if not older:
                        break
                    answered = len(api.calls_of("answerCallbackQuery"))
                    data = older[0]["callback_data"]
                    api.callback_query(paged, pager, listing["message_id"], data)
                    await bot.until(
                        lambda n=answered: len(api.calls_of("answerCallbackQuery")) > n,
                        "a press",
                    )
                    await asyncio.sleep(0.05)

            probing = asyncio.ensure_future(probe())
            await asyncio.sleep(1.0)
            paging = asyncio.ensure_future(page())
            for _ in range(SPAM):
                api.send_text(spammed, spammer, "/aide")
            await asyncio.sleep(0.5)
            results = api.send_text(spammed, admin, "/resultats")
            admin_wait = await answer_to(api, chat_id(1), 0, "📊") - api.pushed_at(results)
            await paging
            stop.set()
            await probing
            await bot.until(
                lambda: len(latencies(api, asked)) == len(asked), "the private answers"
            )
            finish(report, api, bot)
    waits = latencies(api, asked)
    report.timed(
        f"slowest of {len(waits)} private /aide answers during the floods", max(waits),
        options.latency, "one round trip",
    )
    report.rows.append(
        Row(f"admin's /resultats after {SPAM} /aide from a member", f"{admin_wait:.2f} s",
            "target < 5 s")
    )
    to_spammed = api.sent(chat_id(1))
    report.rows.append(
        Row(f"messages to the spammed group for {SPAM} /aide and one /resultats",
            str(len(to_spammed)), "")
    )
    return report


async def camps(options: Options, folder: Path) -> Report:
    report = Report("camps")
    await seed_groups(folder, (BIG, SMALL), 0)
    async with local_telegram(options.latency) as api:
        small = api.group(chat_id(1), "Bench 1")
        member, flooder = api.user(ADMIN_ID, "Member"), api.user(SPAMMER_ID, "Flooder")
        async with agora(api, folder) as bot:
            await bot.ready()

            async def ask_small() -> float:
                after = time.monotonic()
                update = api.send_text(small, member, "/camps")
                return await answer_to(api, chat_id(1), after, "🧭") - api.pushed_at(update)

            # A group is not sent the same answer twice in 10 s (bot.engine.admission):
            # wait between.
            await ask_small()  # warm-up: first imports, caches
            await asyncio.sleep(11)
            alone = await ask_small()
            await asyncio.sleep(11)
            before = peak_rss_mib(bot.process.pid)
            private = api.private_chat(flooder)
            started = time.monotonic()
            for _ in range(REQUESTS):
                api.send_text(private, flooder, "/camps tous")
            await asyncio.sleep(0.2)
            meanwhile = await ask_small()
            await answer_to(api, flooder["id"], started, "🧭")
            await asyncio.sleep(3)
            after = peak_rss_mib(bot.process.pid)
            flooder_answers = sum(
                "🧭" in m.get("text", "") for m in api.sent(flooder["id"], "sendMessage")
            )
            finish(report, api, bot)
    report.rows.append(Row("the small group's /camps alone", f"{alone:.2f} s"))
    report.rows.append(
        Row(f"the same while another sends {REQUESTS} /camps tous", f"{meanwhile:.2f} s",
            f"{alone:.2f} s (alone)", f"{meanwhile / alone:.2f}")
    )
    report.rows.append(
        Row("bot peak RSS, before / after the flood", f"{before:.0f} / {after:.0f} MiB",
            "target + 50 MiB at most", f"+{after - before:.0f} MiB")
    )
    report.rows.append(Row(f"answers to the {REQUESTS} /camps tous", str(flooder_answers)))
    return report


SCENARIOS = {"flood": flood, "camps": camps}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.08, help="round trip of a call, s")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS), default=list(SCENARIOS))
    arguments = parser.parse_args()
    await run_scenarios(SCENARIOS, arguments.only, Options(arguments.latency, 0))

if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
