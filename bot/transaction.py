"""The unit of work: one database transaction per batch of updates, one savepoint per update.

The poller opens a session for each batch it fetched, every handler runs inside a savepoint of
it (a failing handler undoes only its own changes), and the batch commits together with the
id of its last update before Telegram is told, by the next getUpdates offset, to forget it.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_session: ContextVar[AsyncSession | None] = ContextVar("agora_session", default=None)

P = ParamSpec("P")
R = TypeVar("R")


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Open a session, make it current for the block, commit at the end or roll back on error."""
    async with sessionmaker() as session, session.begin():
        token = _session.set(session)
        try:
            yield session
        finally:
            _session.reset(token)


def current_session() -> AsyncSession:
    session = _session.get()
    if session is None:
        raise RuntimeError("no unit of work is open")
    return session


def in_savepoint(
    handler: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run `handler(session, ...)` inside a savepoint of the current unit of work."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session = current_session()
        async with session.begin_nested():
            return await handler(session, *args, **kwargs)

    return wrapper
