"""What cross-tabulations and opinion groups read: the named answers (ballots), aggregated by
the database wherever it can; query functions that never commit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Ballot, PostedPoll, options_of

BATCH = 5000  # ballots fetched at a time when every voter's answers are needed


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """How one question was asked in one chat: its polls, and whether any was anonymous."""

    poll_ids: list[str]
    anonymous: bool


async def asked_in_chat(
    session: AsyncSession, chat_id: int, article_id: str, question_key: str
) -> AskedQuestion:
    rows = await session.execute(
        select(PostedPoll.poll_id, PostedPoll.anonymous).where(
            PostedPoll.chat_id == chat_id,
            PostedPoll.article_id == article_id,
            PostedPoll.question_key == question_key,
        )
    )
    polls = list(rows)
    return AskedQuestion([poll for poll, _ in polls], any(anonymous for _, anonymous in polls))


async def answer_pairs(
    session: AsyncSession, polls_a: list[str], polls_b: list[str]
) -> list[tuple[list[int], list[int], int]]:
    """How many people gave each pair of answers (A, B) among those who answered both.

    The database joins and counts: one row per distinct pair of answers comes back, so the
    memory used does not depend on the number of voters. Both sides are read from the
    (poll, user, option bits) index alone, and an answer is compared as its bits.
    """
    if not polls_a or not polls_b:
        return []
    a, b = aliased(Ballot), aliased(Ballot)
    rows = await session.execute(
        select(a.option_bits, b.option_bits, func.count())
        .select_from(a)
        .join(b, b.user_id == a.user_id)
        .where(a.poll_id.in_(polls_a), b.poll_id.in_(polls_b))
        .group_by(a.option_bits, b.option_bits)
    )
    return [(options_of(x), options_of(y), int(count)) for x, y, count in rows]


async def named_answers(
    session: AsyncSession, article_id: str, chat_id: int | None
) -> AsyncIterator[tuple[int, str, list[int]]]:
    """(user, question key, chosen options) of every named answer to the article's polls, in
    one chat or (None) in all chats, ordered by user, streamed in batches."""
    query = (
        # The answers' JSON as text, decoded once per distinct answer (a few dozen) rather
        # than once per row: at 600,000 rows that is most of the reading time.
        select(Ballot.user_id, PostedPoll.question_key, cast(Ballot.options, String))
        .join(PostedPoll, PostedPoll.poll_id == Ballot.poll_id)
        .where(PostedPoll.article_id == article_id)
        .order_by(Ballot.user_id, Ballot.answered_at)
        .execution_options(yield_per=BATCH)
    )
    if chat_id is not None:
        query = query.where(PostedPoll.chat_id == chat_id)
    decoded: dict[str, list[int]] = {}
    result = await session.stream(query)
    async for partition in result.partitions():
        for user, key, text in partition:
            options = decoded.get(text)
            if options is None:
                options = decoded[text] = json.loads(text)
            yield user, key, options
