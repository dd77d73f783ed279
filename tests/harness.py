"""Drives the running bot through the local Bot API server and reads what it stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.app import running
from bot.settings import Settings
from storage.models import Ballot, PollTally, PostedPoll
from tests.botapi.server import FakeBotAPI


@dataclass
class Agora:
    api: FakeBotAPI
    settings: Settings
    engine: AsyncEngine
    seen: int = field(default=0)

    async def command(
        self, chat: dict[str, Any], user: dict[str, Any] | None, text: str, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Send `text` as `user` in `chat`; return what the bot sent once it was committed."""
        update_id = self.api.send_text(chat, user, text, **kwargs)
        return await self.settle(update_id)

    async def settle(self, update_id: int) -> list[dict[str, Any]]:
        """Wait until `update_id` is committed and acknowledged; return the new bot messages."""
        await self.api.wait_acked(update_id)
        sent = self.api.sent()
        new, self.seen = sent[self.seen :], len(sent)
        return new

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
            rows = await connection.execute(
                select(Ballot.user_id, Ballot.options).where(Ballot.poll_id == poll_id)
            )
            return {user: list(options) for user, options in rows}


@asynccontextmanager
async def start_agora(api: FakeBotAPI, settings: Settings) -> AsyncIterator[Agora]:
    async with running(settings) as (_app, poller):
        poller.start()
        engine = create_async_engine(settings.database_url)
        try:
            yield Agora(api, settings, engine, seen=len(api.sent()))
        finally:
            await engine.dispose()
