"""Drives the running bot through the local Bot API server and reads what it stored."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.app import running
from bot.context import AgoraApp
from bot.core.localtime import system_clock
from bot.core.settings import Settings
from bot.digests.schedule import DigestScheduler
from bot.engine.inbox import MAX_UPDATE_ID
from bot.engine.sending.sender import Sender
from storage.models import (
    Ballot,
    Chat,
    InboxUpdate,
    OptionTotal,
    PollTally,
    PostedPoll,
    QuestionTotal,
    SentDigest,
    option_bits,
)
from tests.support.botapi import FakeBotAPI


class FakeClock:
    """The bot's notion of "now", moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str, zone: str = "Europe/Paris") -> None:
        """Set to a local wall-clock time, e.g. "2026-11-26 09:00"."""
        self.now = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


@dataclass
class Agora:
    api: FakeBotAPI
    settings: Settings
    engine: AsyncEngine
    app: AgoraApp
    seen: int = field(default=0)

    @property
    def digests(self) -> DigestScheduler:
        return self.app.bot_data.digests

    @property
    def sender(self) -> Sender:
        return self.app.bot_data.services.sender

    async def sent_out(self) -> None:
        """Wait (15 s at most) until the inbox has nothing due, the answers computed after a
        commit are queued, the outbox is empty and no call is in flight."""
        async with asyncio.timeout(15):
            await self.app.bot_data.inbox.settled(MAX_UPDATE_ID)
            await self.app.bot_data.services.work.drain()
            await self.sender.wait_idle()

    async def fire_digest(self, chat_id: int) -> list[dict[str, Any]]:
        """Make the chat's daily job due now in APScheduler, wait for its delivery to finish,
        and return what the bot sent."""
        job = self.digests.job(chat_id)
        assert job is not None, f"no digest job for chat {chat_id}"
        before = await self.digest_count()
        job.job.modify(next_run_time=datetime.now(UTC))
        await self.until(lambda: self.digest_settled(before))
        return self.new_messages()

    async def until(self, condition: Callable[[], Awaitable[bool]]) -> None:
        """Wait (15 s at most) for a condition on the database, which has no event to await."""
        async with asyncio.timeout(15):
            while not await condition():  # noqa: ASYNC110
                await asyncio.sleep(0.02)

    async def digest_count(self) -> int:
        """How many digests, in all chats, are done with (sent or failed)."""
        async with AsyncSession(self.engine) as session:
            found = await session.scalar(
                select(func.count()).select_from(SentDigest).where(SentDigest.status != "sending")
            )
            return int(found or 0)

    async def digest_settled(self, before: int) -> bool:
        return await self.digest_count() > before

    async def digests_of(self, chat_id: int) -> list[SentDigest]:
        async with AsyncSession(self.engine) as session:
            found = await session.scalars(
                select(SentDigest).where(SentDigest.chat_id == chat_id).order_by(SentDigest.id)
            )
            return list(found)

    async def chat(self, chat_id: int) -> Chat | None:
        async with AsyncSession(self.engine) as session:
            return await session.get(Chat, chat_id)

    def new_messages(self) -> list[dict[str, Any]]:
        sent = self.api.sent()
        new, self.seen = sent[self.seen :], len(sent)
        return new

    async def command(
        self, chat: dict[str, Any], user: dict[str, Any] | None, text: str, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Send `text` as `user` in `chat`; return what the bot sent once it was committed."""
        update_id = self.api.send_text(chat, user, text, **kwargs)
        return await self.settle(update_id)

    async def handled(self, update_id: int) -> None:
        """Wait until `update_id` (and every update before it) is acknowledged, then handled
        from the inbox (or postponed, or set aside)."""
        await self.api.wait_acked(update_id)
        async with asyncio.timeout(15):
            await self.app.bot_data.inbox.settled(update_id)

    async def sweep(self) -> None:
        """Make the inbox look for updates due now, as its periodic sweep does."""
        await self.app.bot_data.inbox.sweep()

    async def inbox_empty(self) -> bool:
        """Whether no update waits in the inbox (set aside ones do not wait)."""
        async with AsyncSession(self.engine) as session:
            waiting = await session.scalar(
                select(func.count()).where(InboxUpdate.set_aside.is_(None))
            )
            return not waiting

    async def settle(self, update_id: int) -> list[dict[str, Any]]:
        """Wait until `update_id` is acknowledged and handled; return the new bot messages."""
        await self.handled(update_id)
        await self.sent_out()
        return self.new_messages()

    async def vote(self, poll_id: str, user: dict[str, Any], options: Sequence[int]) -> None:
        await self.settle(self.api.vote(poll_id, user, list(options)))

    async def polls(self, chat_id: int) -> list[PostedPoll]:
        async with AsyncSession(self.engine) as session:
            found = await session.scalars(
                select(PostedPoll)
                .where(PostedPoll.chat_id == chat_id)
                .order_by(PostedPoll.message_id)
            )
            return list(found)

    async def tallies(self, poll_id: str) -> dict[int, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(PollTally.option_index, PollTally.votes).where(PollTally.poll_id == poll_id)
            )
            return {index: votes for index, votes in rows}

    async def ballots(self, poll_id: str) -> dict[int, list[int]]:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(Ballot.user_id, Ballot.options, Ballot.option_bits).where(
                        Ballot.poll_id == poll_id
                    )
                )
            ).all()
        assert all(bits == option_bits(options) for _, options, bits in rows)
        return {user: list(options) for user, options, _ in rows}


@contextmanager
def failing(
    engine: AsyncEngine,
    statement: str | Callable[[str], bool],
    *,
    times: int = 1,
    involving: int | None = None,
    when: Callable[[], object] = lambda: True,
) -> Iterator[list[str]]:
    """The database refuses, `times` times, the statements `statement` accepts (a prefix, or
    a test of the statement upper-cased on one line) whose parameters include `involving`, if
    given, once `when()` holds, as a restarting server would (an OperationalError). Yields
    the statements refused so far."""
    refused: list[str] = []
    prefix = statement.upper() if isinstance(statement, str) else ""

    def accepts(sql: str) -> bool:
        return sql.startswith(prefix) if isinstance(statement, str) else statement(sql)

    def refuse(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if len(refused) >= times or not accepts(" ".join(sql.upper().split())):
            return
        values = params.values() if isinstance(params, dict) else params or ()
        if involving is not None and involving not in tuple(values):
            return
        if not when():
            return
        refused.append(sql)
        raise OperationalError(sql, params, ConnectionResetError("the server restarted"))

    event.listen(engine.sync_engine, "before_cursor_execute", refuse)
    try:
        yield refused
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", refuse)


@asynccontextmanager
async def start_agora(
    api: FakeBotAPI, settings: Settings, clock: FakeClock | None = None
) -> AsyncIterator[Agora]:
    async with running(settings, clock=clock or system_clock) as started:
        assert started is not None
        app, poller = started
        poller.start()
        engine = create_async_engine(settings.database_url)
        try:
            yield Agora(api, settings, engine, app, seen=len(api.sent()))
        finally:
            await engine.dispose()


async def totals_match_tallies(engine: AsyncEngine) -> None:
    """The all-chats totals equal the sums of every poll's own counts."""
    async with AsyncSession(engine) as session:
        sums = await session.execute(
            select(
                PostedPoll.article_id,
                PostedPoll.question_key,
                PollTally.option_index,
                func.sum(PollTally.votes),
            )
            .join(PollTally, PollTally.poll_id == PostedPoll.poll_id)
            .group_by(PostedPoll.article_id, PostedPoll.question_key, PollTally.option_index)
        )
        expected = {(a, q, i): int(v) for a, q, i, v in sums}
        totals = await session.execute(
            select(
                OptionTotal.article_id,
                OptionTotal.question_key,
                OptionTotal.option_index,
                OptionTotal.votes,
            )
        )
        assert {(a, q, i): v for a, q, i, v in totals} == expected
        voter_sums = await session.execute(
            select(
                PostedPoll.article_id, PostedPoll.question_key, func.sum(PostedPoll.voter_count)
            ).group_by(PostedPoll.article_id, PostedPoll.question_key)
        )
        expected_voters = {(a, q): int(v) for a, q, v in voter_sums}
        voters = await session.execute(
            select(QuestionTotal.article_id, QuestionTotal.question_key, QuestionTotal.voters)
        )
        assert {(a, q): v for a, q, v in voters} == expected_voters


async def assert_counts_are_the_answers(
    database_url: str, final: Mapping[tuple[str, int], Sequence[int]]
) -> None:
    """Every poll's tallies, ballots and the all-chats totals are exactly the last answer of
    each voter (`final`: (poll, user) -> options; an empty choice is a retraction)."""
    expected: Counter[tuple[str, int]] = Counter()
    for (poll_id, _user), choice in final.items():
        for option in choice:
            expected[(poll_id, option)] += 1
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(PollTally.poll_id, PollTally.option_index, PollTally.votes)
        )
        tallies = {(poll_id, index): votes for poll_id, index, votes in rows if votes}
        ballots = (await connection.execute(select(Ballot.options, Ballot.option_bits))).all()
    await totals_match_tallies(engine)
    await engine.dispose()
    assert tallies == dict(expected)
    assert len(ballots) == sum(1 for choice in final.values() if choice)
    assert all(bits == option_bits(options) for options, bits in ballots)
