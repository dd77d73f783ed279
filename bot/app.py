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
from contextlib import asynccontextmanager, suppress

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from telegram import BotCommand
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, Defaults, JobQueue

import handlers
from bot.admins import AdminCache
from bot.announcements import Announcer
from bot.commands import all_menus
from bot.content import Library, scan
from bot.context import CONTEXT_TYPES, AgoraApp, AgoraContext
from bot.digest import draw_chart
from bot.flood import FloodLimits
from bot.lanes import Dispatcher
from bot.metrics import MetricsServer
from bot.polling import CommitThenAckPoller
from bot.reload import ArticleReloader
from bot.scheduler import Clock, DigestScheduler, system_clock
from bot.sender import Sender
from bot.services import Services
from bot.settings import Settings, StartupError
from bot.transaction import Work
from storage.db import Database

log = logging.getLogger(__name__)

def build_application(settings: Settings) -> AgoraApp:
    """The Application with every handler; services are attached by `start_services`."""
    app = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .updater(None)  # polling is ours: see bot.polling
        .connection_pool_size(64)  # the sender keeps many calls in flight
        .context_types(CONTEXT_TYPES)
        .defaults(Defaults(parse_mode=ParseMode.HTML))  # every text Agora writes is HTML
        .job_queue(JobQueue[AgoraContext]())  # typed: the builder alone loses the context
        .build()
    )
    handlers.register(app)
    return app


async def open_database(url: str) -> Database:
    """The database, migrated; a StartupError naming what failed (never the password)."""
    parsed = make_url(url)
    try:
        database = Database(url)
        await database.migrate()
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        if parsed.password:
            reason = reason.replace(str(parsed.password), "<secret>")
        if parsed.get_backend_name() == "sqlite":
            where = f"the SQLite database {parsed.database} (is its folder writable?)"
        else:
            where = f"PostgreSQL at {parsed.host}:{parsed.port or 5432}, database {parsed.database}"
        raise StartupError(f"cannot open {where}: {reason}") from None
    return database


async def connect(app: AgoraApp, stopping: asyncio.Event) -> bool:
    """Reach Telegram (getMe), trying again with a growing delay while it cannot be reached;
    False if asked to stop meanwhile. A token Telegram rejects is final."""
    delay = 1.0
    while True:
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise StartupError(
                "BOT_TOKEN was rejected by Telegram (revoked or mistyped?): "
                "get a token from @BotFather"
            ) from None
        except (NetworkError, RetryAfter) as exc:
            log.warning(
                "Telegram cannot be reached (%s); trying again in %.0f s", type(exc).__name__, delay
            )
        with suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=delay)
            return False
        delay = min(60.0, delay * 2)


async def start_services(
    app: AgoraApp, settings: Settings, library: Library, clock: Clock, database: Database
) -> Services:
    """Start the sender and the digest schedule, and publish the bot's command menus."""
    limits = FloodLimits() if settings.rate_limit else None
    sender = Sender(app.bot, database, limits=limits, draw=draw_chart)
    found = Services(
        settings, library, database, Work(database, sender.notify), sender, AdminCache()
    )
    app.bot_data.services = found
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot's job-queue extra is missing")
    scheduler = DigestScheduler(found, app.job_queue, clock)
    sender.on_blocked = scheduler.disarm
    sender.on_migrated = scheduler.moved
    app.bot_data.digests = scheduler
    for language, commands in all_menus().items():
        menu = [BotCommand(name, description) for name, description in commands]
        await app.bot.set_my_commands(menu, language_code=language)
        if language == settings.default_language:
            await app.bot.set_my_commands(menu)
    return found


@asynccontextmanager
async def running(
    settings: Settings,
    library: Library | None = None,
    clock: Clock = system_clock,
    stopping: asyncio.Event | None = None,
) -> AsyncIterator[tuple[AgoraApp, CommitThenAckPoller] | None]:
    """Open the database (first: its errors show before Telegram is contacted), reach
    Telegram, start the sender and the digest schedule; the caller starts the poller. Yields
    None if `stopping` was set while Telegram could not be reached. On exit, finish the batch
    and the calls in hand, and stop."""
    database = await open_database(settings.database_url)
    app = build_application(settings)
    if not await connect(app, stopping or asyncio.Event()):
        await database.dispose()
        yield None
        return
    if library is None:
        loaded = scan(settings.articles_dir)
        for error in loaded.errors:
            log.error("article left out: %s", error)
        library = loaded.library
    found = await start_services(app, settings, library, clock, database)
    await app.start()
    await found.sender.start()
    await app.bot_data.digests.start()
    announcer = Announcer(found, clock)
    app.bot_data.announcer = announcer
    articles = ArticleReloader(found, announcer.on_library)
    app.bot_data.reloader = articles
    assert app.job_queue is not None
    articles.start(app.job_queue)
    announcer.start(app.job_queue)
    await announcer.on_library(found.library)  # new since the last run: announced now
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, articles.request)
    dispatcher = Dispatcher(app, found.work, found.admins, settings.default_language)
    poller = CommitThenAckPoller(app, found.database, dispatcher)
    monitor = MetricsServer(found.database, found.sender.backlog)
    if settings.metrics_port is not None:
        await monitor.start("0.0.0.0", settings.metrics_port)  # every interface: for scrapers
    try:
        yield app, poller
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        await monitor.stop()
        app.bot_data.digests.stop()
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
    async with running(settings, stopping=stop) as started:
        if started is None:
            return
        app, poller = started
        log.info("Agora is running as @%s", app.bot.username)
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({stopping, poller.start()}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        log.info("stopping: finishing the current batch")
