"""Synthetic databases for the benchmarks: many subscribed groups, their posted polls, ballots
and tallies, written fast with SQLAlchemy Core executemany.

Every number is deterministic (seeded pseudo-random choices), and the tallies and voter counts
always agree with the ballots they stand for.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.content import Article
from bot.core.library import load_library
from storage.models import (
    Ballot,
    Chat,
    OptionTotal,
    PollTally,
    PostedPoll,
    QuestionTotal,
    option_bits,
)

ARTICLE_ID = "openai-board-2023-11"
TIMEZONE = "Europe/Paris"
FIRST_CHAT_ID = -1002000000000
FIRST_POLL_ID = 5_000_000_000_000_000
FIRST_USER_ID = 1_000_000_000
CHUNK = 50_000

Row = dict[str, Any]
#: (chat index, question index) -> how many people answered that poll.
VoterCount = Callable[[int, int], int]


def chat_id(index: int) -> int:
    return FIRST_CHAT_ID - index


def poll_id(index: int, question: int) -> str:
    return str(FIRST_POLL_ID + index * 16 + question)


def user_id(index: int, voter: int) -> int:
    """The same people answer the questions of their group: voter k of chat i is one user."""
    return FIRST_USER_ID + index * 100_000 + voter


def digest_time_passed(minutes: int = 2, zone: str = TIMEZONE) -> str:
    """Local time `minutes` ago as "HH:MM" (so the digest is due), "00:00" across midnight."""
    now = datetime.now(ZoneInfo(zone))
    earlier = now - timedelta(minutes=minutes)
    return "00:00" if earlier.date() != now.date() else earlier.strftime("%H:%M")


def article() -> Article:
    found = load_library().get(ARTICLE_ID)
    if found is None:
        raise SystemExit(f"the article {ARTICLE_ID} is missing")
    return found


def small_groups(seed: int = 1) -> VoterCount:
    """5 to 40 members per group; each question is answered by most of them."""
    rng = random.Random(seed)
    members: dict[int, int] = {}

    def count(index: int, question: int) -> int:
        if index not in members:
            members[index] = rng.randint(5, 40)
        size = members[index]
        return max(1, size - (index * 7 + question * 3) % (size // 3 + 1))

    return count


def spread(total: int, chats: int, questions: int) -> VoterCount:
    """`total` answers spread evenly: every poll gets total // polls, and the remainder goes
    question by question (first questions first), so that every group looks alike."""
    base, extra = divmod(total, chats * questions)

    def count(index: int, question: int) -> int:
        return base + (1 if question * chats + index < extra else 0)

    return count


@dataclass(slots=True)
class Seeded:
    chats: int
    polls: int
    ballots: int
    tallies: int
    seconds: float


async def seed(
    engine: AsyncEngine,
    *,
    chats: int,
    voters: VoterCount,
    ballots: bool,
    digest_time: str,
    seed: int = 7,
    chunk: int = CHUNK,
) -> Seeded:
    """Writes `chats` subscribed supergroups, each with one poll per question of the seed
    article, answered by `voters(chat, question)` people; ballot rows too when `ballots`."""
    started = time.perf_counter()
    source = article()
    questions = source.questions
    now = datetime.now(UTC)
    posted_at = now - timedelta(days=1)

    chat_rows = [
        {
            "id": chat_id(i),
            "type": "supergroup",
            "title": f"Bench group {i}",
            "language": "fr" if i % 2 == 0 else "en",
            "article_id": ARTICLE_ID,
            "active": True,
            "digest_enabled": True,
            "digest_time": digest_time,
            "timezone": TIMEZONE,
        }
        for i in range(chats)
    ]
    poll_rows = [
        {
            "poll_id": poll_id(i, q),
            "chat_id": chat_id(i),
            "message_id": 100 + q,
            "article_id": ARTICLE_ID,
            "question_key": question.key,
            "language": "fr" if i % 2 == 0 else "en",
            "anonymous": False,
            "multiple": question.multiple,
            "option_ids": [f"{i}-{q}-{k}" for k in range(question.option_count)],
            "voter_count": voters(i, q),
            "posted_at": posted_at,
        }
        for i in range(chats)
        for q, question in enumerate(questions)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(Chat.__table__), chat_rows)
        for start in range(0, len(poll_rows), chunk):
            await connection.execute(insert(PostedPoll.__table__), poll_rows[start : start + chunk])

    tallies: dict[tuple[str, int], int] = {}
    rng = random.Random(seed)
    # Uneven opinions: earlier options are preferred, so each poll has a clear leader.
    weights = {
        q: [float(question.option_count - k) ** 2 for k in range(question.option_count)]
        for q, question in enumerate(questions)
    }

    def answers() -> Iterator[Row]:
        for i in range(chats):
            for q, question in enumerate(questions):
                pid = poll_id(i, q)
                options = range(question.option_count)
                for voter in range(voters(i, q)):
                    if question.multiple:
                        chosen = sorted(rng.sample(options, rng.randint(1, 3)))
                    else:
                        chosen = rng.choices(options, weights[q])
                    for index in chosen:
                        tallies[pid, index] = tallies.get((pid, index), 0) + 1
                    yield {
                        "poll_id": pid,
                        "user_id": user_id(i, voter),
                        "options": chosen,
                        "option_bits": option_bits(chosen),
                        "answered_at": now - timedelta(seconds=voter),
                    }

    written = 0
    batch: list[Row] = []
    for row in answers():
        if not ballots:
            continue
        batch.append(row)
        if len(batch) == chunk:
            async with engine.begin() as connection:
                await connection.execute(insert(Ballot.__table__), batch)
            written += len(batch)
            batch = []
    if batch:
        async with engine.begin() as connection:
            await connection.execute(insert(Ballot.__table__), batch)
        written += len(batch)

    tally_rows = [
        {
            "poll_id": poll["poll_id"],
            "option_index": k,
            "votes": tallies.get((poll["poll_id"], k), 0),
        }
        for poll in poll_rows
        for k in range(len(poll["option_ids"]))
    ]
    # The all-chats totals the bot keeps beside the tallies (storage.totals).
    question_rows = [
        {
            "article_id": ARTICLE_ID,
            "question_key": question.key,
            "voters": sum(voters(i, q) for i in range(chats)),
        }
        for q, question in enumerate(questions)
    ]
    option_rows = [
        {
            "article_id": ARTICLE_ID,
            "question_key": question.key,
            "option_index": k,
            "votes": sum(tallies.get((poll_id(i, q), k), 0) for i in range(chats)),
        }
        for q, question in enumerate(questions)
        for k in range(question.option_count)
    ]
    async with engine.begin() as connection:
        for start in range(0, len(tally_rows), chunk):
            await connection.execute(insert(PollTally.__table__), tally_rows[start : start + chunk])
        await connection.execute(insert(QuestionTotal.__table__), question_rows)
        await connection.execute(insert(OptionTotal.__table__), option_rows)
    return Seeded(
        chats=chats,
        polls=len(poll_rows),
        ballots=written,
        tallies=len(tally_rows),
        seconds=time.perf_counter() - started,
    )
