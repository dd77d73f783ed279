"""Telegram's flood limits, counted so that no window on Telegram's side can exceed them
(`Occupancy`), and the places of the overall limit granted by urgency (`Pacer`)."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Telegram's limits: messages in any second overall, and to one group in any minute."""

    overall: int = 30
    group: int = 20
    group_period: float = 60.0
    concurrency: int = 16  # calls in flight


def places_taken(
    sent: Iterable[tuple[int, datetime, int]], limits: FloodLimits, now: datetime, clock: float
) -> tuple[list[float], dict[int, list[float]]]:
    """When each place taken by messages sent earlier, (chat, marked sent at, messages), is
    free again on the monotonic `clock` (read at `now`): in the overall limit, and in each
    group's (private chats have no per-minute limit)."""
    overall: list[float] = []
    groups: dict[int, list[float]] = defaultdict(list)
    for chat_id, done_at, messages in sent:
        ago = (now - done_at.replace(tzinfo=done_at.tzinfo or UTC)).total_seconds()
        answered = clock - max(0.0, ago)
        overall.extend([answered + 1.0] * messages)
        if chat_id < 0:
            groups[chat_id].extend([answered + limits.group_period] * messages)
    return overall, groups


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

    def wait(self, now: float, places: int = 1) -> float | None:
        """Seconds until `places` places are free (0: now; None: when a call is answered).
        A call takes as many places as the messages it sends (an album: one per photo)."""
        answered = self._answered
        while answered and answered[0] <= now:
            answered.popleft()
        places = min(places, self.capacity)
        missing = self._in_flight + len(answered) + places - self.capacity
        if missing <= 0:
            return 0.0
        if missing > len(answered):
            return None
        return answered[missing - 1] - now

    def hold(self, until: Iterable[float], now: float) -> None:
        """Places taken by calls answered before this limiter existed (before a restart, or
        by another instance), each free at the given time."""
        self._answered = deque(sorted([*self._answered, *(t for t in until if t > now)]))

    def take(self, places: int = 1) -> None:
        self._in_flight += min(places, self.capacity)

    def done(self, now: float, places: int = 1) -> None:
        places = min(places, self.capacity)
        self._in_flight -= places
        self._answered.extend([now + self.period] * places)

    def unused(self, now: float) -> bool:
        return self.wait(now) == 0.0 and not self._in_flight and not self._answered


class Pacer:
    """Grants the overall limit's places, the most urgent waiting call first. A place is
    taken right before the HTTP request (after the row is claimed and a chart drawn)."""

    def __init__(self, occupancy: Occupancy) -> None:
        self._occupancy = occupancy
        self._waiting: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None

    @asynccontextmanager
    async def place(self, priority: int, order: int, places: int = 1) -> AsyncIterator[None]:
        """Wait for `places` places (the messages the call sends), most urgent call first."""
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, order, places, future))
        self._grant()
        await future
        try:
            yield
        finally:
            self._occupancy.done(time.monotonic(), places)
            self._grant()

    def _grant(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            places = self._waiting[0][2]
            wait = self._occupancy.wait(time.monotonic(), places)
            if wait is None:
                return  # an answer will call again
            if wait > 0:
                self._timer = asyncio.get_running_loop().call_later(wait, self._grant)
                return
            _, _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter gives its turn away
                self._occupancy.take(places)
                future.set_result(None)
