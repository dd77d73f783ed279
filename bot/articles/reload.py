"""Reloading the articles while the bot runs: at once on SIGHUP, otherwise when ARTICLES_DIR
changes (its files' names, sizes and modification times, looked at once a minute).

A new or changed valid file is taken; an invalid one is logged with the reason and left out,
its previously loaded version (if any) staying; a removed file's article leaves the library,
nothing stored about it is deleted. Whatever a file holds, the bot keeps running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram.ext import CallbackContext, JobQueue

from bot.core.background import Background
from bot.core.content import ContentError
from bot.core.library import Library, scan
from bot.engine.services import Services

log = logging.getLogger(__name__)

FOLDER_CHECK_EVERY = 60.0  # seconds between two looks at ARTICLES_DIR

Signature = tuple[tuple[str, int, int], ...]
OnChange = Callable[[Library], Awaitable[None]]


def folder_signature(folder: Path) -> Signature:
    """What changes when a file of the folder is added, removed or written."""
    try:
        found = []
        for path in folder.glob("*.toml"):
            stat = path.stat()
            found.append((path.name, stat.st_mtime_ns, stat.st_size))
    except OSError:
        return ()
    return tuple(sorted(found))


class ArticleReloader:
    """Swaps the services' library for a freshly read one, one reload at a time."""

    def __init__(self, services: Services, on_change: OnChange | None = None) -> None:
        self._services = services
        self._on_change = on_change
        self._lock = asyncio.Lock()
        self._signature = folder_signature(self._folder)
        self._tasks = Background()
        self.reloads = 0  # finished reloads, for tests and logs

    @property
    def _folder(self) -> Path:
        return self._services.settings.articles_dir

    def start(self, jobs: JobQueue[Any]) -> None:
        jobs.run_repeating(
            self._look, interval=FOLDER_CHECK_EVERY, first=FOLDER_CHECK_EVERY, name="articles"
        )

    def request(self, reason: str = "SIGHUP") -> None:
        """Reload soon, from a signal handler (which cannot wait)."""
        self._tasks.spawn(self._reload_logged(reason))

    async def _look(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        await self.check_folder()

    async def check_folder(self) -> bool:
        """Reload if the folder changed since the last reload; whether it did."""
        if folder_signature(self._folder) == self._signature:
            return False
        await self._reload_logged("the articles folder changed")
        return True

    async def _reload_logged(self, reason: str) -> None:
        try:
            await self.reload(reason)
        except Exception:  # a reload never stops the bot: the library in hand stays
            log.exception("articles not reloaded (%s)", reason)

    async def reload(self, reason: str) -> Library:
        """Read the articles again and put the result in service; the new library."""
        async with self._lock:
            signature = folder_signature(self._folder)
            previous = self._services.library
            try:
                found = await asyncio.to_thread(scan, self._folder, previous)
            except ContentError as exc:  # the packaged articles: an installation problem
                log.error("articles not reloaded: %s", exc)
                return previous
            for error in found.errors:
                log.error("article left out: %s", error)
            library = found.library
            before = {a.id: a for a in previous.articles}
            after = {a.id: a for a in library.articles}
            added = sorted(after.keys() - before.keys())
            removed = sorted(before.keys() - after.keys())
            changed = sorted(i for i in after.keys() & before.keys() if after[i] != before[i])
            self._services.library = library
            self._signature = signature
            log.info(
                "articles reloaded (%s): %d in all, %d added, %d changed, %d removed, %d left out",
                reason,
                len(library.articles),
                len(added),
                len(changed),
                len(removed),
                len(found.errors),
            )
            for article_id in removed:
                log.warning(
                    "article %s is no longer loaded (its file is gone); what was stored about "
                    "it stays: to hide an article but keep its results, set retired = true",
                    article_id,
                )
            try:
                if self._on_change is not None:
                    await self._on_change(library)
            finally:
                self.reloads += 1
            return library
