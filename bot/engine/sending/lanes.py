"""The sender's memory of the outbox: an entry per pending row, in lanes (a chat's messages
in order; its reactions and button answers apart), and heaps that say which lane goes next."""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine.outbox import Method

if TYPE_CHECKING:
    from storage.models import OutboxMessage

#: Calls that are not messages: no order within the chat, no flood-limit slot.
INSTANT_METHODS = frozenset({Method.REACT, Method.ANSWER_CALLBACK})


@dataclass(slots=True, eq=False)
class Entry:
    """What the sender keeps in memory of a pending row (the payload stays in the database)."""

    id: int
    chat_id: int
    priority: int
    method: str
    queued: float  # when the row was written, epoch seconds
    due: float = 0.0  # monotonic time before which it is not tried again
    failures: int = 0  # unexpected failures (not Telegram's answers)
    stalls: int = 0  # the database's failures in a row (to claim it, or to mark it)
    held: bool = False  # claimed by this sender, not yet released or marked
    #: The row and Telegram's answer, once the call succeeded but its mark failed: the call
    #: is not made again, only the mark is tried again.
    sent: tuple[OutboxMessage, Any] | None = None

    @property
    def lane(self) -> tuple[int, bool]:
        return (self.chat_id, self.method in INSTANT_METHODS)


@dataclass(slots=True)
class Lanes:
    """Pending entries by lane, and the heaps that say which lane goes next."""

    lanes: dict[tuple[int, bool], list[Entry]] = field(default_factory=dict)
    busy: set[tuple[int, bool]] = field(default_factory=set)
    ready: list[tuple[int, int, tuple[int, bool]]] = field(default_factory=list)
    sleeping: list[tuple[float, tuple[int, bool]]] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        lane = self.lanes.setdefault(entry.lane, [])
        if any(e.id == entry.id for e in lane):
            return
        bisect.insort(lane, entry, key=lambda e: e.id)
        self.offer(entry.lane)

    def offer(self, key: tuple[int, bool]) -> None:
        """Make the lane's head a candidate (stale candidates are skipped when popped)."""
        lane = self.lanes.get(key)
        if lane and key not in self.busy:
            head = lane[0]
            heapq.heappush(self.ready, (head.priority, head.id, key))

    def sleep(self, key: tuple[int, bool], until: float) -> None:
        heapq.heappush(self.sleeping, (until, key))

    def remove(self, entry: Entry) -> None:
        lane = self.lanes.get(entry.lane)
        if lane is not None and entry in lane:
            lane.remove(entry)
            if not lane:
                del self.lanes[entry.lane]

    def drop_chat(self, chat_id: int) -> None:
        """Forget every entry of a chat (its queue was dropped)."""
        for instant in (False, True):
            for entry in list(self.lanes.get((chat_id, instant), [])):
                self.remove(entry)

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its entries join the new id's lanes."""
        for instant in (False, True):
            for entry in list(self.lanes.get((old_id, instant), [])):
                self.remove(entry)
                entry.chat_id = new_id
                self.add(entry)

    def ids(self) -> set[int]:
        return {entry.id for lane in self.lanes.values() for entry in lane}

    def __len__(self) -> int:
        return sum(len(lane) for lane in self.lanes.values())
