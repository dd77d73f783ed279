"""Assembling and running the Application: services, handlers, command menus, polling.

The path of an update: bot.engine.polling fetches a batch (or bot.engine.webhook receives
it) and stores it in the inbox (bot.engine.inbox), which acknowledges it;
bot.engine.dispatcher handles it from there, chats in parallel, each update in one short
transaction (bot.engine.transaction) in which handlers/ decide, write and queue their
messages (bot.engine.outbox → storage.outbox); bot.engine.sending then makes the calls,
within Telegram's limits. Digests (bot.digests) queue theirs the same
way. Of several instances on one database, only the one holding the lease sends
(bot.leadership).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

from telegram import Bot, BotCommand, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, Defaults, JobQueue, TypeHandler

import handlers
from bot.articles.announcements import Announcer
from bot.articles.reload import ArticleReloader
from bot.context import CONTEXT_TYPES, AgoraApp, AgoraContext
from bot.core.commands import all_menus
from bot.core.library import Library, scan
from bot.core.localtime import Clock, system_clock
from bot.core.settings import Settings
from bot.digests.chart import draw_chart
from bot.digests.schedule import DigestScheduler
from bot.discussion.links import rate_url
from bot.discussion.rating import rate_button
from bot.engine.admins import AdminCache
from bot.engine.admission import Admission
from bot.engine.dispatcher import Dispatcher
from bot.engine.inbox import Inbox
from bot.engine.lease import Lease
from bot.engine.metrics import MetricsServer
from bot.engine.polling import StoreThenAckPoller
from bot.engine.sending.flood import FloodLimits
from bot.engine.sending.sender import Sender
from bot.engine.services import Services
from bot.engine.startup import connect, open_database
from bot.engine.transaction import Work
from bot.leadership import Leadership
from handlers.admission import admit
from handlers.polls import answer_from_json
from handlers.publishing import channel_publisher
from storage.db import Database

if TYPE_CHECKING:
    from bot.engine.webhook import WebhookServer
    from bot.report.server import ReportServer

log = logging.getLogger(__name__)

class Intake(Protocol):
    """Where updates come in: long polling (bot.engine.polling) or webhooks (bot.engine.webhook)."""

    def start(self) -> asyncio.Task[None]: ...

    async def close(self) -> None: ...


class LeaseLost(Exception):
    """The lease was lost while this instance sent: it stops, another one sends."""


def build_application(settings: Settings) -> AgoraApp:
    """The Application with every handler; services are attached by `start_services`."""
    app = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .updater(None)  # polling is ours: see bot.engine.polling
        .connection_pool_size(64)  # the sender keeps many calls in flight
        .context_types(CONTEXT_TYPES)
        .defaults(Defaults(parse_mode=ParseMode.HTML))  # every text Agora writes is HTML
        .job_queue(JobQueue[AgoraContext]())  # typed: the builder alone loses the context
        .build()
    )
    # Before everything (group -2; -1 records the chat): commands and button presses beyond
    # their sender's or their group's pace go no further (bot.engine.admission).
    app.bot_data.admission = Admission()
    app.add_handler(TypeHandler(Update, admit), group=-2)
    handlers.register(app)
    return app


async def start_services(
    app: AgoraApp, settings: Settings, library: Library, clock: Clock, database: Database
) -> Services:
    """Make the sender and the digest schedule (started by the instance that leads), and
    publish the bot's command menus."""
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
    secret = settings.bot_token.get_secret_value()

    def rate_keyboard(chat_id: int) -> InlineKeyboardMarkup:
        """Under a group's digest: rate its opinions in private (a deep link)."""
        return InlineKeyboardMarkup([[rate_button(rate_url(app.bot.username, secret, chat_id))]])

    scheduler.rate_keyboard = rate_keyboard
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
) -> AsyncIterator[tuple[AgoraApp, Intake] | None]:
    """Open the database (first: its errors show before Telegram is contacted), reach
    Telegram, lead (send and run the digests) if the lease is free, and open the intake of
    updates (webhooks: listening, and the webhook set); the caller starts the intake. Yields
    None if `stopping` was set while Telegram could not be reached. On exit, finish the
    updates and the calls in hand, and stop."""
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
    leadership, articles = await start_leading(app, found, clock, lease_url(settings, database))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, articles.request)
    inbox, intake = await open_intake(app, settings, found)
    app.bot_data.digests.inbox_caught_up = inbox.caught_up
    app.bot_data.digests.inbox_running.set()
    monitor = MetricsServer(found.database, found.sender.backlog)
    if settings.metrics_port is not None:
        await monitor.start(settings.metrics_host, settings.metrics_port)
    report = await open_report(found, clock, app.bot)
    try:
        yield app, intake
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        if report is not None:
            await report.close()
        await monitor.stop()
        await intake.close()
        await inbox.close()
        await found.work.drain()  # answers computed after their update's commit
        await leadership.end()
        await app.stop()
        await app.shutdown()
        await found.database.dispose()


async def open_report(found: Services, clock: Clock, bot: Bot) -> ReportServer | None:
    """The operators' report on REPORT_HOST:REPORT_PORT, when the port is set."""
    settings = found.settings
    if settings.report_port is None:
        return None
    from bot.report.server import ReportServer  # aiohttp, loaded only when it is needed

    server = ReportServer(found, clock, bot)
    await server.listen(settings.report_host, settings.report_port)
    return server


def lease_url(settings: Settings, database: Database) -> str | None:
    """Where the lease is held: PostgreSQL only (SQLite has one process per file anyway)."""
    return None if database.sqlite else settings.database_url


async def start_leading(
    app: AgoraApp, found: Services, clock: Clock, lease_at: str | None
) -> tuple[Leadership, ArticleReloader]:
    """Announcements, the lease and what its holder runs, and the articles' reloading."""
    assert app.job_queue is not None
    announcer = Announcer(found, clock, channel_publisher(app.bot))
    app.bot_data.announcer = announcer
    lease = None if lease_at is None else Lease(lease_at)
    leadership = Leadership(found, app.bot_data.digests, announcer, app.job_queue, lease, clock)
    app.bot_data.leadership = leadership
    articles = ArticleReloader(found, leadership.on_library)
    app.bot_data.reloader = articles
    articles.start(app.job_queue)
    await leadership.begin()
    return leadership, articles


async def open_intake(app: AgoraApp, settings: Settings, found: Services) -> tuple[Inbox, Intake]:
    """The inbox, handling at once what a previous run left, and what feeds it: the webhook
    server (listening, and the webhook set), or long polling (the webhook removed)."""
    webhooks = settings.webhook_url is not None and settings.webhook_secret is not None
    dispatcher = Dispatcher(
        app,
        found.work,
        found.admins,
        settings.default_language,
        remember=webhooks,
        keep_personal_data=settings.log_personal_data,
        read_answer=answer_from_json,
    )
    inbox = Inbox(app.bot, found.database, dispatcher)
    app.bot_data.inbox = inbox
    inbox.start()
    intake: Intake
    if webhooks:
        intake = await open_webhook(app, settings, found.database, inbox)
    else:
        await stop_webhook(app)
        intake = StoreThenAckPoller(app, found.database, inbox)
    return inbox, intake


async def open_webhook(
    app: AgoraApp, settings: Settings, database: Database, inbox: Inbox
) -> WebhookServer:
    """Listen on HOST:PORT, then ask Telegram to post the updates to WEBHOOK_URL (pending
    updates are kept: they are delivered, never dropped)."""
    # Here, not at the top: aiohttp (about 9 MB) is loaded in webhook mode only.
    from bot.engine.webhook import WebhookServer, webhook_path

    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    server = WebhookServer(
        database, inbox, path=webhook_path(settings.webhook_url), secret=secret
    )
    await server.listen(settings.host, settings.port)
    try:
        await app.bot.set_webhook(
            settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=settings.webhook_max_connections,
        )
    except BaseException:
        await server.close()
        raise
    return server


async def stop_webhook(app: AgoraApp) -> None:
    """Polling needs no webhook: remove one left by a webhook run (its updates are kept)."""
    info = await app.bot.get_webhook_info()
    if info.url:
        log.warning("a webhook was set (webhook mode before?): removed, polling instead")
        await app.bot.delete_webhook()


async def serve(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish the updates in hand and exit cleanly; raise
    LeaseLost if this instance stopped because it lost the lease."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with running(settings, stopping=stop) as started:
        if started is None:
            return
        app, intake = started
        # What start-up loaded (libraries, articles, the application: some 100 MiB of
        # objects) lives as long as the process: kept out of the collector's full passes,
        # which otherwise took 0.1-0.3 s each, several times during a vote storm.
        gc.freeze()
        lost = app.bot_data.leadership.lost
        mode = "webhooks" if settings.webhook_url else "polling"
        log.info("Agora is running as @%s (%s)", app.bot.username, mode)
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())}
        await asyncio.wait({*waits, intake.start()}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        log.info("stopping: finishing the updates in hand")
    if lost.is_set():
        raise LeaseLost
