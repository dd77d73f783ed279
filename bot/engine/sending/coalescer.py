"""Many small pieces of database work in few transactions (the sender's claims and marks)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.background import Background
from storage.db import Database

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Runs many small pieces of database work in few transactions: what arrives while one
    transaction runs goes into the next, so a busy sender commits a batch, an idle one at once.
    """

    def __init__(
        self,
        database: Database,
        work: Callable[[AsyncSession, list[T]], Awaitable[list[R]]],
    ) -> None:
        self._database = database
        self._work = work
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running = False
        self._runner = Background()

    async def __call__(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._running:
            self._running = True
            self._runner.spawn(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    async with self._database.transaction() as session:
                        results = await self._work(session, [item for item, _ in batch])
                except Exception as exc:  # each caller gets the failure
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)
        finally:
            self._running = False
