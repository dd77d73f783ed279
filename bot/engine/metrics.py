"""Metrics for whoever runs the bot (Prometheus text format) and a health check, served on
METRICS_PORT when it is set: GET /metrics and GET /healthz.

The counters follow prometheus-client's conventions (`_total`, base units, no personal data
and no unbounded ids in labels). /healthz answers from the bot's own event loop, so it
answers only while the loop runs; 200 when the database answers too, 503 otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from telegram import Update

from bot.engine.outbox import Priority
from storage.db import Database
from storage.inbox import summary as inbox_summary
from storage.outbox import DROPPED, KEEP_DONE, PENDING
from storage.outbox import SENT as ROW_SENT
from storage.outbox import summary as outbox_summary

log = logging.getLogger(__name__)

UPDATES = Counter("agora_updates_total", "Updates handled, by type.", ["type"])
HANDLER_ERRORS = Counter("agora_handler_errors_total", "Updates whose handler failed.")
VOTES = Counter("agora_votes_applied_total", "Poll answers committed.")
SENT = Counter(
    "agora_messages_sent_total",
    "Telegram calls made, by method and kind (answer, poll, digest).",
    ["method", "kind"],
)
FLOOD_WAITS = Counter("agora_flood_waits_total", "429 answers received from Telegram.")
DIGESTS = Counter("agora_digests_total", "Digests finished, by outcome.", ["outcome"])
OUTBOX_PENDING = Gauge("agora_outbox_pending", "Telegram calls waiting to be made.")
OUTBOX_OLDEST = Gauge("agora_outbox_oldest_seconds", "Age of the oldest call waiting.")
UPDATE_SECONDS = Histogram(
    "agora_update_seconds",
    "Time to handle one update of a chat, from its transaction's start to its commit "
    "(poll answers are applied in bulk, not timed one by one).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

KINDS = (
    "message",
    "edited_message",
    "callback_query",
    "poll_answer",
    "poll",
    "my_chat_member",
    "chat_member",
)


def update_type(update: Update | None) -> str:
    """The update's kind, from a short fixed list (anything else is "other")."""
    if update is not None:
        for kind in KINDS:
            if getattr(update, kind, None) is not None:
                return kind
    return "other"


async def database_problem(database: Database) -> str | None:
    """None when the database answers a query within 2 s; otherwise what went wrong (the
    error's type only: the body of /healthz is public)."""
    try:
        async with asyncio.timeout(2), database.read() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer is "unhealthy", said in the body
        return type(exc).__name__
    return None


class MetricsServer:
    """GET /metrics and GET /healthz on a port, from the bot's event loop."""

    def __init__(self, database: Database, outbox: Callable[[], tuple[int, float | None]]):
        self._database = database
        self._outbox = outbox  # (calls waiting, when the oldest was queued, epoch seconds)
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        log.info("metrics on http://%s:%d/metrics, health on /healthz", host, port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readline()
                while (await reader.readline()).strip():
                    pass  # headers: nothing to read in them
                parts = request.decode("latin-1").split()
                path = parts[1] if len(parts) > 1 else ""
                status, content_type, body = await self._answer(parts[0] if parts else "", path)
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        if path == "/metrics":
            waiting, oldest = self._outbox()
            OUTBOX_PENDING.set(waiting)
            OUTBOX_OLDEST.set(max(0.0, time.time() - oldest) if oldest is not None else 0.0)
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
        if path == "/healthz":
            problem = await database_problem(self._database)
            if problem is not None:
                return "503 Service Unavailable", "text/plain", f"{problem}\n".encode()
            return "200 OK", "text/plain", b"ok\n"
        return "404 Not Found", "text/plain", b"/metrics or /healthz\n"


async def describe_outbox(database_url: str) -> str:
    """One line for operators: what waits to be sent, and what was sent or dropped lately."""
    database = Database(database_url)
    try:
        await database.migrate()
        async with database.read() as session:
            counts, oldest = await outbox_summary(session)
            inbox = await inbox_summary(session, datetime.now(UTC))
    finally:
        await database.dispose()
    waiting = {priority: n for (status, priority), n in counts.items() if status == PENDING}
    total = sum(waiting.values())
    kinds = ", ".join(f"{Priority.label(p)}s {waiting.get(p, 0):,}" for p in Priority)
    line = f"outbox: {total:,} waiting ({kinds})"
    if oldest is not None:
        age = (datetime.now(UTC) - oldest.replace(tzinfo=oldest.tzinfo or UTC)).total_seconds()
        line += f", the oldest queued {age:,.0f} s ago"
    sent = sum(n for (status, _), n in counts.items() if status == ROW_SENT)
    dropped = sum(n for (status, _), n in counts.items() if status == DROPPED)
    line += f"; kept from the last {KEEP_DONE.days} days: {sent:,} sent, {dropped:,} dropped"
    line += f"\ninbox: {inbox.waiting:,} waiting to be handled ({inbox.postponed:,} postponed)"
    if inbox.oldest is not None:
        age = (datetime.now(UTC) - inbox.oldest.replace(tzinfo=UTC)).total_seconds()
        line += f", the oldest received {age:,.0f} s ago"
    return line + f"; {inbox.set_aside:,} set aside (kept 7 days)"
