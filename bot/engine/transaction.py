"""The unit of work: one short transaction that decides, writes, and queues what to send.

Each update (and each digest) is handled inside a unit of work: its handler reads what the
decision needs, writes the effects, and queues the Telegram calls to make in the outbox
(bot.engine.outbox), all in one database transaction with no network call inside. Only once the
transaction has committed is the sender told about the queued calls and are in-memory
effects (a digest job re-armed) applied; a rolled-back unit leaves no trace anywhere.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.background import Background
from storage.ballots import AnswerBatch
from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(slots=True, eq=False)
class UnitOfWork:
    session: AsyncSession
    answers: AnswerBatch = field(default_factory=AnswerBatch)
    queued: list[OutboxMessage] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # Set by the error handler when a handler of this update failed: the unit is rolled back.
    failure: BaseException | None = None

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run `action` once the transaction has committed (never if it rolls back)."""
        self.after_commit.append(action)


_unit: ContextVar[UnitOfWork | None] = ContextVar("agora_unit_of_work", default=None)


class Work:
    """Opens units of work on the database and hands what they queued to the sender."""

    def __init__(
        self, database: Database, notify: Callable[[list[OutboxMessage]], None]
    ) -> None:
        self.database = database
        self._notify = notify
        #: Set while another process holds the lease and sends (bot.leadership): the rows a
        #: unit queued are announced to it, in the unit's transaction, instead of to ours.
        self.publish: Callable[[AsyncSession, list[int]], Awaitable[None]] | None = None
        self._detached = Background()

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work made current; committed on exit, rolled back on an exception."""
        publish = self.publish
        async with self.database.transaction() as session:
            unit = UnitOfWork(session)
            token = _unit.set(unit)
            try:
                yield unit
                await unit.answers.apply(session)
                await session.flush()
                if unit.queued and publish is not None:
                    await publish(session, [row.id for row in unit.queued])
            finally:
                _unit.reset(token)
        if unit.queued and publish is None:
            self._notify(unit.queued)
        for action in unit.after_commit:
            action()

    def detach(self, follow_up: Coroutine[Any, Any, None]) -> None:
        """Run `follow_up` on its own: work that takes a second or more (opinion groups at
        100,000 voters) and must hold neither a transaction (on SQLite, every writer would
        wait) nor the updates behind it. Started once a unit has committed, it opens its own
        unit to queue its answer; a crash before then loses that answer, not the update's
        effects, which are committed."""
        self._detached.spawn(self._guarded(follow_up))

    @staticmethod
    async def _guarded(follow_up: Coroutine[Any, Any, None]) -> None:
        try:
            await follow_up
        except Exception:  # the bot outlives it; the follow-up tells its user if it can
            log.exception("a detached follow-up failed")

    async def drain(self) -> None:
        """Until every follow-up started so far (and any they started) has finished."""
        while self._detached:
            await self._detached.wait()


def active_unit() -> UnitOfWork | None:
    return _unit.get()


def current_unit() -> UnitOfWork:
    unit = _unit.get()
    if unit is None:
        raise RuntimeError("no unit of work is open")
    return unit


def with_session(
    handler: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run `handler(session, ...)` in the current unit, after the answers collected so far."""

    @functools.wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        unit = current_unit()
        await unit.answers.apply(unit.session)
        return await handler(unit.session, *args, **kwargs)

    return wrapper
