"""Tasks started in the background and kept until they end: asyncio holds only weak
references to tasks, so one that nothing refers to may vanish half-way."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class Background:
    """A set of background tasks: started with `spawn`, awaited with `wait`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until the tasks started so far have ended (their errors are theirs to report)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
