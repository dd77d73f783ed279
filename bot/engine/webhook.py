"""The webhook server: Telegram posts each update to WEBHOOK_URL, and is answered 200 once
the update is stored in the inbox (bot.engine.inbox), so whatever was not stored is delivered again.

Served by aiohttp in the bot's own event loop: python-telegram-bot's webhook server answers
200 as soon as an update is queued in memory, before anything is stored. The update is then
handled from the inbox as a polled one is: in its chat's turn, across processes too, and
checked against the handled updates, so a redelivery does nothing. A slow chat holds none of
Telegram's connections: the answer does not wait for the handling.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.engine.inbox import MAX_UPDATE_ID, Inbox
from bot.engine.metrics import database_problem
from storage.db import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes (a message is at most 4,096 characters, a poll's options few).
MAX_BODY = 1024 * 1024


def webhook_path(url: str) -> str:
    """The path Telegram posts to, from WEBHOOK_URL (its query string is not part of it)."""
    return urlsplit(url).path or "/"


class WebhookServer:
    """POST updates to the webhook's path, GET /healthz; from `start()` until `close()`."""

    def __init__(
        self,
        database: Database,
        inbox: Inbox,
        *,
        path: str,
        secret: str,
    ) -> None:
        self._database = database
        self._inbox = inbox
        self._path = path
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self._path, self._update)
        app.router.add_get("/healthz", self._health)
        return app

    async def listen(self, host: str, port: int) -> None:
        """Accept requests on host:port (port 0: any free port, then in `port`)."""
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=10.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = next(address for address in runner.addresses if isinstance(address, tuple))
        self.port = int(bound[1])
        log.info("webhook server on %s:%d, updates on %s", host, self.port, self._path)

    def start(self) -> asyncio.Task[None]:
        """A task that ends when `stop()` is called (requests are served from `listen()`)."""
        self._task = asyncio.create_task(self._until_stopped(), name="agora-webhook")
        return self._task

    async def _until_stopped(self) -> None:
        await self._stopping.wait()

    def stop(self) -> None:
        self._stopping.set()

    async def close(self) -> None:
        """Stop taking requests and let those in hand be stored (then they are answered)."""
        self.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="wrong secret token\n")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="too large\n")
        try:
            raw = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="too large\n")
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested beyond reason
            log.warning("webhook: a body that is not JSON was refused")
            return web.Response(status=400, text="not JSON\n")
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if (
            not isinstance(update_id, int)
            or isinstance(update_id, bool)
            or not 0 < update_id <= MAX_UPDATE_ID
        ):
            log.warning("webhook: a body that is not an update was refused")
            return web.Response(status=400, text="not an update\n")
        if self._stopping.is_set():
            return web.Response(status=503, text="stopping\n")
        try:
            await self._inbox.receive([raw], watermark=False)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("webhook: update %d not stored (%s)", update_id, type(exc).__name__)
            return web.Response(status=500, text="not stored: send it again\n")
        return web.Response(text="ok\n")

    async def _health(self, request: web.Request) -> web.Response:
        problem = await database_problem(self._database)
        if problem is not None:
            return web.Response(status=503, text=f"{problem}\n")
        return web.Response(text="ok\n")
