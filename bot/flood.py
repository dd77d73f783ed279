"""Telegram's flood limits, counted so that no window on Telegram's side can exceed them
(`Occupancy`), and the places of the overall limit granted by urgency (`Pacer`)."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Telegram's limits: messages in any second overall, and to one group in any minute."""

    overall: int = 30
    group: int = 20
    group_period: float = 60.0
    concurrency: int = 16  # calls in flight


class Occupancy:
    """At most `capacity` calls in any `period` seconds, as Telegram counts them.

    Telegram counts a call at some moment between when it leaves and when its answer comes
    back, which network and event-loop delays make unknowable. So a call occupies a place
    from the moment it is allowed until `period` seconds after its answer: then any window
    of `period` seconds on Telegram's side holds at most `capacity` calls, whatever the delays.
    (The last call allowed into such a window found every earlier one still in place.)
    """

    def __init__(self, capacity: int, period: float) -> None:
        self.capacity, self.period = capacity, period
        self._in_flight = 0
        self._answered: deque[float] = deque()  # when each answered call frees its place

    def wait(self, now: float) -> float | None:
        """Seconds until a place frees (0: one is free now; None: when a call is answered)."""
        answered = self._answered
        while answered and answered[0] <= now:
            answered.popleft()
        if self._in_flight + len(answered) < self.capacity:
            return 0.0
        return answered[0] - now if answered else None

    def take(self) -> None:
        self._in_flight += 1

    def done(self, now: float) -> None:
        self._in_flight -= 1
        self._answered.append(now + self.period)

    def unused(self, now: float) -> bool:
        return self.wait(now) == 0.0 and not self._in_flight and not self._answered


class Pacer:
    """Grants the overall limit's places, the most urgent waiting call first. A place is
    taken right before the HTTP request (after the row is claimed and a chart drawn)."""

    def __init__(self, occupancy: Occupancy) -> None:
        self._occupancy = occupancy
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None

    @asynccontextmanager
    async def place(self, priority: int, order: int) -> AsyncIterator[None]:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, order, future))
        self._grant()
        await future
        try:
            yield
        finally:
            self._occupancy.done(time.monotonic())
            self._grant()

    def _grant(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            wait = self._occupancy.wait(time.monotonic())
            if wait is None:
                return  # an answer will call again
            if wait > 0:
                self._timer = asyncio.get_running_loop().call_later(wait, self._grant)
                return
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter gives its turn away
                self._occupancy.take()
                future.set_result(None)
