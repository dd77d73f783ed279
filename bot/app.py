"""Assembling and running the Application: services, handlers, command menus, polling.

The path of an update: bot.polling fetches a batch; bot.lanes handles it, chats in parallel,
each update in one short transaction (bot.transaction) in which handlers/ decide, write and
queue their messages (bot.outbox → storage.outbox); bot.sender then makes the calls, within
Telegram's limits. Digests (bot.scheduler) queue theirs the same way.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder

import handlers
from bot.admins import AdminCache
from bot.commands import all_menus
from bot.content import Library, load_library
from bot.digest import draw_chart
from bot.lanes import Dispatcher
from bot.polling import CommitThenAckPoller
from bot.scheduler import DIGESTS_KEY, Clock, DigestScheduler, system_clock
from bot.sender import FloodLimits, Sender
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings
from bot.transaction import Work
from storage.db import Database

log = logging.getLogger(__name__)

AgoraApp = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: Settings) -> AgoraApp:
    """The Application with every handler; services are attached by `start_services`."""
    app = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .updater(None)  # polling is ours: see bot.polling
        .connection_pool_size(64)  # the sender keeps many calls in flight
        .build()
    )
    handlers.register(app)
    return app


async def start_services(
    app: AgoraApp, settings: Settings, library: Library, clock: Clock
) -> Services:
    """Open the database, migrate it, and publish the bot's command menus."""
    database = Database(settings.database_url)
    await database.migrate()
    limits = FloodLimits() if settings.rate_limit else None
    sender = Sender(app.bot, database, limits=limits, draw=draw_chart)
    found = Services(
        settings, library, database, Work(database, sender.notify), sender, AdminCache()
    )
    app.bot_data[SERVICES_KEY] = found
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot's job-queue extra is missing")
    scheduler = DigestScheduler(found, app.job_queue, clock)
    sender.on_blocked = scheduler.disarm
    sender.on_migrated = scheduler.moved
    app.bot_data[DIGESTS_KEY] = scheduler
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
    """Start the bot, its sender and its digest schedule; the caller starts the poller. On
    exit, finish the batch and the calls in hand, and stop."""
    app = build_application(settings)
    await app.initialize()
    found = await start_services(app, settings, library or load_library(), clock)
    await app.start()
    await found.sender.start()
    await app.bot_data[DIGESTS_KEY].start()
    dispatcher = Dispatcher(app, found.work, found.admins)
    poller = CommitThenAckPoller(app, found.database, dispatcher)
    try:
        yield app, poller
    finally:
        app.bot_data[DIGESTS_KEY].stop()
        await poller.close()
        await found.sender.stop()
        await app.stop()
        await app.shutdown()
        await found.database.dispose()


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
