"""Admission control: how fast each person and each chat may send commands and press buttons,
answers a group already got a moment ago, and the heavy computations (opinion groups,
cross-tabs, exports), a few at a time, one per chat, identical requests sharing one.

Everything here is in memory and per process: several instances each keep their own
buckets (README, "Admission control").
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from prometheus_client import Counter

T = TypeVar("T")

REFUSED = Counter(
    "agora_admission_refused_total",
    "Commands and button presses refused for going too fast, by whose bucket was empty.",
    ["bucket"],
)
COMPUTATIONS = Counter(
    "agora_heavy_computations_total", "Heavy answers computed, by kind.", ["kind"]
)
SHARED = Counter(
    "agora_heavy_shared_total",
    "Heavy answers that shared an identical computation under way, by kind.",
    ["kind"],
)


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's shape: `burst` at once, then `per_second`."""

    burst: float
    per_second: float


COMMANDS = Rate(burst=12, per_second=0.5)  # a person in a chat: 12 at once, then one every 2 s
BUTTONS = Rate(burst=20, per_second=2.0)  # a person's button presses in a chat
CHAT = Rate(burst=30, per_second=0.5)  # a group's members together (its admins never wait)
REPEAT_WINDOW = 10.0  # seconds in which a group is not sent the same answer twice
HEAVY_AT_ONCE = 2  # heavy computations at once in the process (memory: README, "Insights")
IDLE_BUCKETS = 10_000  # beyond this many buckets, the full ones (idle people) are dropped


@dataclass(slots=True)
class Bucket:
    """Tokens that refill at a steady rate up to the burst; `told` once its owner was told
    to slow down, until a token is taken again."""

    rate: Rate
    tokens: float
    stamp: float
    told: bool = False

    def refill(self, now: float) -> float:
        self.tokens = min(self.rate.burst, self.tokens + (now - self.stamp) * self.rate.per_second)
        self.stamp = now
        return self.tokens

    def take(self) -> None:
        self.tokens -= 1
        self.told = False


class Verdict(enum.Enum):
    ADMIT = "admit"
    TELL_PERSON = "person"  # refused: tell the person to slow down (once)
    TELL_CHAT = "chat"  # refused: tell the group to slow down (once)
    IGNORE = "ignore"  # refused, and already told


class Buckets:
    """One bucket per key, made full on first use; idle ones are dropped past a bound."""

    def __init__(self, rate: Rate, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._clock = clock
        self._buckets: dict[Hashable, Bucket] = {}

    def get(self, key: Hashable) -> Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= IDLE_BUCKETS:
                self._buckets = {
                    k: b for k, b in self._buckets.items() if b.refill(now) < b.rate.burst
                }
            bucket = self._buckets[key] = Bucket(self._rate, self._rate.burst, now)
        bucket.refill(now)
        return bucket


class Limits:
    """Token buckets per (chat, person) for commands and for button presses, and per chat for
    the members of a group together. A refusal takes no token; a group's administrators are
    never held back in their group (they moderate it), by their own bucket or the group's."""

    def __init__(
        self,
        commands: Rate = COMMANDS,
        buttons: Rate = BUTTONS,
        chat: Rate = CHAT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._commands = Buckets(commands, clock)
        self._buttons = Buckets(buttons, clock)
        self._chats = Buckets(chat, clock)

    def admit(
        self, chat_id: int, user_id: int, *, button: bool, group: bool, admin: Callable[[], bool]
    ) -> Verdict:
        """Whether a command (or a button press) may go on; `admin` is asked only when a
        bucket is empty (it may raise bot.engine.admins.AdminsUnknown: nothing was taken)."""
        person = (self._buttons if button else self._commands).get((chat_id, user_id))
        chat = self._chats.get(chat_id) if group else None
        if (person.tokens < 1 or (chat is not None and chat.tokens < 1)) and group and admin():
            return Verdict.ADMIT  # a group's administrators are never held back in it
        if person.tokens < 1:
            return self._refused(person, Verdict.TELL_PERSON, "person")
        if chat is not None and chat.tokens < 1:
            return self._refused(chat, Verdict.TELL_CHAT, "chat")
        person.take()
        if chat is not None and chat.tokens >= 1:
            chat.take()
        return Verdict.ADMIT

    @staticmethod
    def _refused(bucket: Bucket, tell: Verdict, reason: str) -> Verdict:
        REFUSED.labels(reason).inc()
        if bucket.told:
            return Verdict.IGNORE
        bucket.told = True
        return tell


class RecentAnswers:
    """The answers each group got in the last few seconds, by request (a command and its
    arguments) and text, so that a read-only command repeated meanwhile, by anyone, is not
    answered a second time with the same text (a new vote makes a new answer)."""

    def __init__(self, window: float = REPEAT_WINDOW, clock: Callable[[], float] = time.monotonic):
        self._window = window
        self._clock = clock
        self._sent: dict[tuple[int, Hashable, int], float] = {}

    def seen(self, chat_id: int, request: Hashable, text: str) -> bool:
        when = self._sent.get((chat_id, request, hash(text)))
        return when is not None and self._clock() - when < self._window

    def add(self, chat_id: int, request: Hashable, text: str) -> None:
        now = self._clock()
        if len(self._sent) >= IDLE_BUCKETS:
            self._sent = {k: t for k, t in self._sent.items() if now - t < self._window}
        self._sent[(chat_id, request, hash(text))] = now


@dataclass(frozen=True, slots=True)
class Repeatable:
    """A read-only command in a group: its request, where the group's answers are kept, and
    whether its sender administers the group (asked only for a repeat: administrators are
    always answered; it may raise bot.engine.admins.AdminsUnknown, as any handler may)."""

    recent: RecentAnswers
    request: Hashable
    admin: Callable[[], bool]

    def seen(self, chat_id: int, text: str) -> bool:
        return self.recent.seen(chat_id, self.request, text) and not self.admin()

    def add(self, chat_id: int, text: str) -> None:
        self.recent.add(chat_id, self.request, text)


#: Set while handling a read-only command in a group: its answer is not sent if the group got
#: the same one to the same request within the window (handlers.common.reply_blocks looks).
answer_once: ContextVar[Repeatable | None] = ContextVar("agora_answer_once", default=None)


@dataclass(slots=True)
class _ChatTurn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class Computations:
    """Heavy computations: at most `at_once` in the process, one per chat at a time, and a
    request identical to one being computed (or waiting its turn) shares its result."""

    def __init__(self, at_once: int = HEAVY_AT_ONCE) -> None:
        self._slots = asyncio.Semaphore(at_once)
        self._chats: dict[int, _ChatTurn] = {}
        self._flights: dict[tuple[str, Hashable], asyncio.Future[Any]] = {}

    async def run(
        self, kind: str, key: Hashable, chat_id: int, compute: Callable[[], Awaitable[T]]
    ) -> T:
        """`compute()`'s result; `kind` names it in the metrics (a short fixed word)."""
        flight = self._flights.get((kind, key))
        if flight is None:
            flight = asyncio.ensure_future(self._compute(kind, chat_id, compute))
            self._flights[(kind, key)] = flight
            flight.add_done_callback(lambda _: self._flights.pop((kind, key), None))
        else:
            SHARED.labels(kind).inc()
        # Shielded: one asker going away (a stop) does not cancel the others' answer.
        return cast(T, await asyncio.shield(flight))

    async def _compute(self, kind: str, chat_id: int, compute: Callable[[], Awaitable[T]]) -> T:
        async with self._turn(chat_id), self._slots:
            COMPUTATIONS.labels(kind).inc()
            return await compute()

    @asynccontextmanager
    async def _turn(self, chat_id: int) -> AsyncIterator[None]:
        turn = self._chats.setdefault(chat_id, _ChatTurn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if not turn.users:
                del self._chats[chat_id]


class Admission:
    """What one application keeps for admission control (bot.app makes it)."""

    def __init__(self) -> None:
        self.limits = Limits()
        self.recent = RecentAnswers()
        self.computations = Computations()
