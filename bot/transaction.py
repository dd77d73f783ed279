"""The unit of work: one database transaction per batch of updates, one savepoint per update.

The poller opens a unit of work for each batch it fetched. Handlers run inside a savepoint of
it (a failing handler undoes only its own changes), except poll answers, which are collected
and applied in bulk (see storage.ballots) before any other handler runs and before the commit.
The commit also records the id of the batch's last update, and only then does the next
getUpdates offset tell Telegram to forget the batch.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.ballots import AnswerBatch

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(slots=True)
class UnitOfWork:
    session: AsyncSession
    answers: AnswerBatch = field(default_factory=AnswerBatch)


_unit: ContextVar[UnitOfWork | None] = ContextVar("agora_unit_of_work", default=None)


@asynccontextmanager
async def unit_of_work(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[UnitOfWork]:
    """Open a session and make it current; apply pending answers and commit at the end."""
    async with sessionmaker() as session, session.begin():
        unit = UnitOfWork(session)
        token = _unit.set(unit)
        try:
            yield unit
            await unit.answers.apply(session)
        finally:
            _unit.reset(token)


def current_unit() -> UnitOfWork:
    unit = _unit.get()
    if unit is None:
        raise RuntimeError("no unit of work is open")
    return unit


def current_session() -> AsyncSession:
    return current_unit().session


def in_savepoint(
    handler: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run `handler(session, ...)` in a savepoint, after the answers collected so far."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        unit = current_unit()
        await unit.answers.apply(unit.session)
        async with unit.session.begin_nested():
            return await handler(unit.session, *args, **kwargs)

    return wrapper
