"""Assembling and running the Application: services, handlers, command menus, polling."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

import handlers
from bot.commands import all_menus
from bot.content import Library, load_library
from bot.polling import CommitThenAckPoller
from bot.scheduler import DIGESTS_KEY, Clock, DigestScheduler, system_clock
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings
from storage.db import create_engine, create_sessionmaker, migrate

log = logging.getLogger(__name__)

AgoraApp = Application[Any, Any, Any, Any, Any, Any]


def flood_limiter() -> AIORateLimiter:
    """Telegram's flood limits as leaky buckets that never exceed them in any time window.

    A bucket of capacity C that drains r per second lets C + r·T through in a window of T
    seconds. Overall, 2 + 25/s leaves 3 messages of the 30 allowed in any second for requests
    that leave later than the limiter let them (a busy event loop, a full connection pool);
    per group, a burst of 7 (a whole /poll) plus 13 per minute stays within 20 in any minute.
    PTB's defaults (buckets of 30 per second and 20 per minute) allow twice that in a window,
    which Telegram answers with 429s during a digest fan-out.
    """
    return AIORateLimiter(
        overall_max_rate=2,
        overall_time_period=2 / 25,
        group_max_rate=7,
        group_time_period=7 * 60 / 13,
        max_retries=3,
    )


def build_application(settings: Settings) -> AgoraApp:
    """The Application with every handler; services are attached by `start_services`."""
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .updater(None)  # polling is ours: see bot.polling
        .connection_pool_size(64)  # digests go out concurrently: no queueing for a connection
    )
    if settings.rate_limit:
        # The builder's generics pin the limiter's argument type to None; AIORateLimiter's is int.
        builder = builder.rate_limiter(flood_limiter())  # type: ignore[arg-type]
    app = builder.build()
    handlers.register(app)
    return app


async def start_services(
    app: AgoraApp, settings: Settings, library: Library, clock: Clock
) -> Services:
    """Open the database, migrate it, and publish the bot's command menus."""
    engine = create_engine(settings.database_url)
    await migrate(engine)
    found = Services(settings, library, engine, create_sessionmaker(engine))
    app.bot_data[SERVICES_KEY] = found
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot's job-queue extra is missing")
    app.bot_data[DIGESTS_KEY] = DigestScheduler(found, app.bot, app.job_queue, clock)
    for language, commands in all_menus().items():
        menu = [BotCommand(name, description) for name, description in commands]
        await app.bot.set_my_commands(menu, language_code=language)
        if language == settings.default_language:
            await app.bot.set_my_commands(menu)
    return found


@asynccontextmanager
async def running(
    settings: Settings, library: Library | None = None, clock: Clock = system_clock
) -> AsyncIterator[tuple[AgoraApp, CommitThenAckPoller]]:
    """Start the bot and its digest schedule; the caller starts the poller. On exit, drain
    the batch in hand and stop."""
    app = build_application(settings)
    await app.initialize()
    found = await start_services(app, settings, library or load_library(), clock)
    await app.start()
    await app.bot_data[DIGESTS_KEY].start()
    poller = CommitThenAckPoller(app, found.sessionmaker)
    try:
        yield app, poller
    finally:
        app.bot_data[DIGESTS_KEY].stop()
        await poller.close()
        await app.stop()
        await app.shutdown()
        await found.engine.dispose()


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the batch in hand and exit cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running(settings) as (app, poller):
        log.info("Agora is running as @%s", app.bot.username)
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({stopping, poller.start()}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        log.info("stopping: finishing the current batch")
