"""Long polling that acknowledges a batch of updates as soon as it is stored in the inbox.

python-telegram-bot's Updater moves the getUpdates offset as soon as updates are queued in
memory, so a crash loses them. Here each batch is fetched and stored in the inbox (bot.engine.inbox)
in one short transaction, which also records the batch's last id; only then is the offset
moved, and the next batch fetched while the inbox's lanes handle this one. After a crash
Telegram sends again what was not acknowledged; what is at or below the recorded id is
already stored, and is not stored twice.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application

from bot.engine.inbox import MAX_UPDATE_ID, Inbox
from bot.engine.sending.calls import quiet_raw_calls
from storage.db import Database
from storage.inbox import forget_handled_below
from storage.updates import LAST_UPDATE_ID, get_state

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25


BATCH_SIZE = 100


class StoreThenAckPoller:
    """Fetch, store, acknowledge (with the next fetch); until `stop()` is called."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        database: Database,
        inbox: Inbox,
        *,
        long_poll_seconds: int = LONG_POLL_SECONDS,
    ) -> None:
        # We call getUpdates through do_api_request on purpose, to parse each update on its
        # own (one unreadable update must not block the batch).
        quiet_raw_calls()
        self._app = application
        self._database = database
        self._inbox = inbox
        self._long_poll = long_poll_seconds
        self._stopping = asyncio.Event()
        self._stored = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Run in a background task, which ends when stopped or if polling fails for good."""
        self._task = asyncio.create_task(self.run(), name="agora-poller")
        return self._task

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run()`."""
        self._stopping.set()

    async def close(self) -> None:
        """Stop and wait for the batch in hand to be stored."""
        self.stop()
        if self._task is not None:
            await self._task

    async def run(self) -> None:
        async with self._database.transaction() as session:
            self._stored = await get_state(session, LAST_UPDATE_ID) or 0
            await forget_handled_below(session, self._stored)  # no webhook posts them again
        log.info("polling for updates after #%d", self._stored)
        failures = 0
        while not self._stopping.is_set():
            try:
                await self._inbox.room()
                raw = await self._fetch()
                if raw is None:
                    break
                if raw:
                    await self._process(raw)
                failures = 0
            except RetryAfter as exc:
                wait = exc.retry_after
                await self._pause(wait.total_seconds() if isinstance(wait, timedelta) else wait)
            except (TelegramError, SQLAlchemyError, OSError) as exc:
                # Nothing of the batch was acknowledged: it comes back on the next fetch.
                failures += 1
                log.warning("batch failed (%s: %s); retrying", type(exc).__name__, exc)
                await self._pause(min(30.0, 0.5 * 2**failures))
        await self._acknowledge()

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _fetch(self) -> list[dict[str, Any]] | None:
        """The next batch as raw JSON objects; None when asked to stop while waiting."""
        request = asyncio.ensure_future(
            self._app.bot.do_api_request(
                "getUpdates",
                api_kwargs={
                    "offset": self._stored + 1,
                    "limit": BATCH_SIZE,
                    "timeout": self._long_poll,
                    "allowed_updates": Update.ALL_TYPES,
                },
                read_timeout=self._long_poll + 10,
                return_type=None,
            )
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        done, _ = await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if request not in done:
            request.cancel()
            return None
        stopping.cancel()
        result = request.result()
        return result if isinstance(result, list) else []

    async def _process(self, raw: list[dict[str, Any]]) -> None:
        """Store the batch; the next fetch acknowledges it."""
        await self._inbox.receive(raw, watermark=True, more_coming=len(raw) >= BATCH_SIZE)
        ids = [item.get("update_id") for item in raw]
        self._stored = max(
            [self._stored, *(i for i in ids if isinstance(i, int) and i <= MAX_UPDATE_ID)]
        )

    async def _acknowledge(self) -> None:
        """Tell Telegram, on the way out, which updates are done (timeout 0: no waiting)."""
        try:
            await self._app.bot.do_api_request(
                "getUpdates",
                api_kwargs={"offset": self._stored + 1, "limit": 1, "timeout": 0},
                return_type=None,
            )
        except TelegramError as exc:
            log.warning("could not acknowledge the last updates (%s)", type(exc).__name__)
