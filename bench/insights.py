"""Insights at scale: /crosstab, /groups and the trend in /results for one group of 100,000
voters who answered six questions (600,000 named answers), against 10,000 voters measured in
the same run; then the same group with 1,000 opinions and 200,000 ratings (one opinion per
hundred voters, two ratings per voter): /groups on answers and ratings, and the next opinion
to rate. SQLite, like the other benchmarks.

    python -m bench.insights [--voters 100000] [--baseline 10000] [--samples 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from bench.seed import article, chat_id, poll_id, seed, spread, user_id
from bot.core.i18n import using_language
from bot.digests.compose import earlier_count
from bot.insights.answer_sets import Ballots
from bot.insights.crosstab import CrossTab, mask, strongest_link
from bot.insights.group_inputs import group_inputs
from bot.insights.opinion_groups import describe
from bot.insights.results_text import results_blocks
from bot.insights.standings import Tallies
from storage.db import Database
from storage.insights import answer_pairs, answer_patterns
from storage.models import Opinion, Rating, SentDigest
from storage.polls import article_results
from storage.ratings import next_to_rate


async def timed(
    run: Callable[[], Awaitable[Any]], samples: int
) -> tuple[list[float], float, Any]:
    """Durations of `samples` runs, the peak of Python allocations during one more, and its
    result."""
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        await run()
        durations.append(time.perf_counter() - started)
    tracemalloc.start()
    result = await run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return durations, peak / 2**20, result


async def measure(voters: int, samples: int, folder: Path) -> dict[str, Any]:
    url = f"sqlite+aiosqlite:///{folder / f'insights-{voters}.db'}"
    database = Database(url)
    await database.migrate()
    seeded = await seed(
        database.engine, chats=1, voters=spread(voters * 6, 1, 6), ballots=True,
        digest_time="09:00",
    )
    source = article()
    options = [q.option_count for q in source.questions]
    # Fourteen daily digests, for the trend.
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(SentDigest.__table__),
            [
                {
                    "chat_id": chat_id(0),
                    "local_date": date(2026, 11, 26) - timedelta(days=d),
                    "daily_date": date(2026, 11, 26) - timedelta(days=d),
                    "status": "sent",
                    "started_at": datetime(2026, 11, 26, tzinfo=UTC) - timedelta(days=d),
                    "numbers": {"chat": {}, "all": {}},
                }
                for d in range(1, 15)
            ],
        )
    figures: dict[str, Any] = {"voters": voters, "ballots": seeded.ballots}

    async def crosstab() -> Any:
        async with database.read() as session:
            pairs = await answer_pairs(session, [poll_id(0, 1)], [poll_id(0, 3)])
        table = CrossTab.of(pairs, options[1], options[3])
        return strongest_link(table, mask(table, single_answer_b=True))

    figures["crosstab"] = await timed(crosstab, samples)

    async def read_answers() -> Any:
        questions = [(q.key, q.option_count) for q in source.questions]
        async with database.read() as session:
            patterns = await answer_patterns(session, source.id, chat_id(0), questions)
        return Ballots.of_patterns(options, patterns)

    figures["read"] = await timed(read_answers, max(1, samples // 2))
    ballots = figures["read"][2]
    figures["sets"] = len(ballots.weights)

    async def groups() -> Any:
        return describe(ballots)

    figures["groups"] = await timed(groups, max(1, samples // 2))

    async def trend() -> Any:
        async with database.read() as session:
            earlier = await earlier_count(session, chat_id(0), date(2026, 11, 26))
            here = await article_results(session, source.id, chat_id(0))
            everywhere = await article_results(session, source.id)
        assert earlier is not None
        with using_language("fr"):
            return results_blocks(source, Tallies(here, everywhere), earlier, False)

    figures["trend"] = await timed(trend, samples)
    await add_ratings(database, voters)

    async def read_with_ratings() -> Any:
        async with database.read() as session:
            return await group_inputs(session, source, chat_id(0))

    figures["read ratings"] = await timed(read_with_ratings, max(1, samples // 2))
    inputs = figures["read ratings"][2]

    async def groups_with_ratings() -> Any:
        return describe(inputs.ballots())

    figures["groups ratings"] = await timed(groups_with_ratings, max(1, samples // 2))
    raters = iter(range(voters))

    async def next_opinion() -> Any:
        async with database.read() as session:
            return await next_to_rate(session, chat_id(0), source.id, user_id(0, next(raters)))

    figures["next"] = await timed(next_opinion, samples * 4)
    await database.dispose()
    return figures


async def add_ratings(database: Database, voters: int) -> None:
    """One opinion per hundred voters, two ratings per voter, on opinions spread evenly."""
    source, opinions = article(), max(1, voters // 100)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(Opinion.__table__),
            [
                {
                    "chat_id": chat_id(0), "message_id": 10_000_000 + n, "article_id": source.id,
                    "question_key": None, "user_id": user_id(0, n * 100), "author": f"A{n}",
                    "text": f"Opinion {n}", "created_at": now,
                }
                for n in range(opinions)
            ],
        )
        first = await connection.scalar(select(func.min(Opinion.id)))
        assert first is not None
        rows = [
            {
                "opinion_id": first + (voter * 7 + k * 13) % opinions,
                "user_id": user_id(0, voter),
                "value": (voter + k) % 3 - 1,
                "rated_at": now,
            }
            for voter in range(voters)
            for k in range(2)
        ]
        unique = list({(r["opinion_id"], r["user_id"]): r for r in rows}.values())
        await connection.execute(insert(Rating.__table__), unique)
        for value, column in ((1, "agreed"), (-1, "disagreed"), (0, "passed")):
            counted = (
                select(func.count())
                .where(Rating.opinion_id == Opinion.id, Rating.value == value)
                .scalar_subquery()
            )
            await connection.execute(update(Opinion).values({column: counted}))


def ms(durations: list[float]) -> str:
    return f"{statistics.median(durations) * 1000:.0f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--voters", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = await measure(options.baseline, options.samples, Path(folder))
        big = await measure(options.voters, options.samples, Path(folder))
    print(f"{'measure':<36} {big['voters']:>10,} {base['voters']:>10,} {'ratio':>7}")
    for key, label in (
        ("crosstab", "cross-tab (query + table + link)"),
        ("read", "groups: read the answers"),
        ("groups", "groups: cluster and describe"),
        ("trend", "results with the trend"),
        ("read ratings", "groups+ratings: read"),
        ("groups ratings", "groups+ratings: cluster, describe"),
        ("next", "next opinion to rate"),
    ):
        b, s = big[key], base[key]
        ratio = statistics.median(b[0]) / statistics.median(s[0])
        print(f"{label + ', median':<36} {ms(b[0]):>10} {ms(s[0]):>10} {ratio:>7.2f}")
        print(
            f"{label + ', peak MiB':<36} {b[1]:>10.2f} {s[1]:>10.2f} {b[1] / s[1]:>7.2f}"
        )
    print(f"named answers: {big['ballots']:,} and {base['ballots']:,}")
    print(f"distinct sets of answers read for the groups: {big['sets']:,} and {base['sets']:,}")


if __name__ == "__main__":
    asyncio.run(main())
