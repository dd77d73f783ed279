"""The report at scale: an article answered 1,000,000 times over 10,000 chats (six polls
each, named ballots stored, 20,000 opinions), against 10,000 answers over the same 10,000
chats measured in the same run, with 30 days of history (every question's results changed
every hour, the opinions spread over 28 days): reading the figures and writing
the page (and its CSV file), as the report server does for one request. SQLite by default;
PostgreSQL with --database-url.

    python -m bench.report [--answers 1000000] [--baseline 10000] [--chats 10000]
        [--samples 5] [--database-url postgresql://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from bench.insights import timed
from bench.seed import ARTICLE_ID, article, chat_id, seed, spread
from bot.core.i18n import using_language
from bot.core.settings import async_database_url
from bot.report.downloads import report_csv
from bot.report.figures import ChatOrder, read_figures
from bot.report.groups import GroupsCache, groups_block
from bot.report.page import article_page
from storage.db import Database
from storage.models import Opinion, OptionTotal, QuestionTotal, ResultSnapshot

OPINIONS = 20_000
ZONE = ZoneInfo("Europe/Paris")


async def opinions(database: Database, chats: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {
            "chat_id": chat_id(n % chats),
            "message_id": 10_000 + n,
            "article_id": ARTICLE_ID,
            "question_key": None,
            "user_id": 1_000 + n,
            "author": f"Person {n}",
            "text": f"Opinion number {n}, with a few words to make it look real enough.",
            "created_at": now - timedelta(minutes=2 * n),  # over the last 28 days
        }
        for n in range(OPINIONS)
    ]
    async with database.engine.begin() as connection:
        await connection.execute(insert(Opinion.__table__), rows)


async def history(database: Database) -> int:
    """Thirty days of the results' history, every question changing every hour (the most
    the report's days can meet: an hour keeps its last snapshot), growing to today's
    totals."""
    now, hours = datetime.now(UTC), 30 * 24
    async with database.engine.begin() as connection:
        totals = await read_totals_of(connection)
        rows = [
            {
                "article_id": ARTICLE_ID,
                "question_key": key,
                "taken_at": now - timedelta(hours=hours - q),
                "voters": voters * q // hours,
                "votes": [count * q // hours for _, count in sorted(votes.items())],
            }
            for key, (voters, votes) in totals.items()
            for q in range(hours)
        ]
        await connection.execute(insert(ResultSnapshot.__table__), rows)
    return len(rows)


async def read_totals_of(connection: Any) -> dict[str, tuple[int, dict[int, int]]]:
    voters = await connection.execute(select(QuestionTotal.question_key, QuestionTotal.voters))
    found: dict[str, tuple[int, dict[int, int]]] = {key: (count, {}) for key, count in voters}
    rows = await connection.execute(
        select(OptionTotal.question_key, OptionTotal.option_index, OptionTotal.votes)
    )
    for key, index, count in rows:
        found[key][1][index] = count
    return found


async def fresh(url: str | None, folder: Path, answers: int) -> Database:
    if url is None:
        return Database(f"sqlite+aiosqlite:///{folder / f'report-{answers}.db'}")
    database = Database(async_database_url(url))
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    return database


async def measure(
    answers: int, chats: int, samples: int, folder: Path, url: str | None
) -> dict[str, Any]:
    database = await fresh(url, folder, answers)
    await database.migrate()
    questions = len(article().questions)
    seeded = await seed(
        database.engine, chats=chats, voters=spread(answers, chats, questions), ballots=True,
        digest_time="09:00",
    )
    await opinions(database, chats)
    snapshots = await history(database)
    if not database.sqlite:  # what autovacuum would have done by then: fresh statistics
        async with database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    source, now = article(), datetime.now(UTC)
    sizes: dict[str, int] = {}
    # The opinion groups, found in the background as the report server finds them; the
    # page then shows them (the cache is warm, as it is but for a first visit).
    groups = GroupsCache(database, lambda: now)
    started = time.perf_counter()
    groups.latest(source)
    await groups.settled()
    finding = time.perf_counter() - started

    async def page() -> None:
        async with database.read() as session:
            figures = await read_figures(session, source, ZONE, now)
        with using_language("fr"):
            found = groups_block(source, groups.latest(source), ZONE)
            written = article_page(figures, ChatOrder.VOTERS, ZONE, now, groups=found)
            sizes["page_bytes"] = len(written.encode())

    async def csv() -> None:
        async with database.read() as session:
            figures = await read_figures(session, source, ZONE, now)
        with using_language("fr"):
            sizes["csv_bytes"] = len(report_csv(figures, ZONE, now).content)

    await page()  # warm: the first run pays for imports and the database's caches
    page_times, page_peak, _ = await timed(page, samples)
    await csv()
    csv_times, csv_peak, _ = await timed(csv, samples)
    await database.dispose()
    return {
        "answers": seeded.ballots,
        "snapshots": snapshots,
        "groups": finding,
        "page": statistics.median(page_times),
        "page_peak": page_peak,
        "csv": statistics.median(csv_times),
        "csv_peak": csv_peak,
        **sizes,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        where = (args.chats, args.samples, Path(folder), args.database_url)
        small = await measure(args.baseline, *where)
        large = await measure(args.answers, *where)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}, {args.chats:,} chats, {OPINIONS:,} opinions")
    print(f"| measure | {args.baseline:,} answers | {args.answers:,} answers | ratio |")
    print("|---|---|---|---|")
    print(f"| answers stored | {small['answers']:,} | {large['answers']:,} | |")
    print(f"| results history rows | {small['snapshots']:,} | {large['snapshots']:,} | |")
    for key, label, unit in (
        ("page", "page: figures read and HTML written (median)", "s"),
        ("page_peak", "page: peak Python allocations", "MiB"),
        ("csv", "CSV file: figures read and written (median)", "s"),
        ("csv_peak", "CSV file: peak Python allocations", "MiB"),
        ("groups", "opinion groups found in the background (once)", "s"),
    ):
        a, b = small[key], large[key]
        shown = (lambda v: f"{v * 1000:.0f} ms") if unit == "s" else (lambda v: f"{v:.1f} MiB")
        print(f"| {label} | {shown(a)} | {shown(b)} | {b / a:.2f} |")
    for key, label in (("page_bytes", "page size"), ("csv_bytes", "CSV size")):
        print(f"| {label} | {small[key] / 1024:.0f} KB | {large[key] / 1024:.0f} KB | |")


if __name__ == "__main__":
    asyncio.run(main())
