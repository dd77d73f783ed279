"""Metrics and health for whoever runs the bot: /metrics moves by the right amounts after a
small scenario, /healthz answers; and JSON log lines."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket

import aiohttp

from bot.core.logs import JsonFormatter
from bot.core.settings import Settings
from tests.support.botapi import FakeBotAPI
from tests.support.harness import start_agora


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sample(text: str, name: str, labels: str = "") -> float:
    """A metric's value in Prometheus' text format (0 when absent)."""
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" ([0-9.e+-]+)"
    found = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    return float(found[1]) if found else 0.0


async def scrape(session: aiohttp.ClientSession, port: int) -> str:
    async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
        assert response.status == 200
        return await response.text()


async def test_metrics_follow_a_small_scenario(api: FakeBotAPI, settings: Settings) -> None:
    port = free_port()
    settings = settings.model_copy(update={"metrics_port": port})
    group = api.group(-100800, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    async with start_agora(api, settings) as agora, aiohttp.ClientSession() as session:
        before = await scrape(session, port)
        alice = api.user(1001, "Alice", language_code="fr")
        await agora.command(api.private_chat(alice), alice, "/aide")
        sent = await agora.command(group, admin, "/sondage")
        poll = next(m["poll"]["id"] for m in sent if "poll" in m)
        for voter in range(3):
            await agora.vote(poll, api.user(500 + voter, f"V{voter}"), [voter])
        api.fail_next("getChatAdministrators", 400, "Bad Request: chat not found")
        await agora.command(api.group(-100801, "Autre"), admin, "/sondage")
        after = await scrape(session, port)

        def moved(name: str, labels: str = "") -> float:
            return sample(after, name, labels) - sample(before, name, labels)

        assert moved("agora_updates_total", 'type="message"') == 3
        assert moved("agora_updates_total", 'type="poll_answer"') == 3
        assert moved("agora_votes_applied_total") == 3
        assert moved("agora_handler_errors_total") == 1
        assert moved("agora_messages_sent_total", 'kind="poll",method="sendPoll"') == 6
        # The help, the polls' introduction and the "sorry" of the failed update:
        assert moved("agora_messages_sent_total", 'kind="answer",method="sendMessage"') == 3
        assert sample(after, "agora_outbox_pending") == 0
        assert moved("agora_update_seconds_count") == 2  # the chats' commits; votes go in bulk
        async with session.get(f"http://127.0.0.1:{port}/healthz") as health:
            assert (health.status, await health.text()) == (200, "ok\n")
        async with session.get(f"http://127.0.0.1:{port}/nothing") as missing:
            assert missing.status == 404


def test_json_log_lines_carry_time_level_logger_message_and_chat() -> None:
    record = logging.LogRecord("bot.sender", logging.INFO, __file__, 1, "sent %s", ("x",), None)
    record.chat_id = -100800
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "INFO"
    assert line["logger"] == "bot.sender"
    assert line["message"] == "sent x"
    assert line["chat_id"] == -100800
    assert line["time"].endswith("+00:00")


async def test_health_is_503_when_the_database_does_not_answer() -> None:
    from bot.engine.metrics import MetricsServer
    from storage.db import Database

    database = Database("postgresql+asyncpg://agora@127.0.0.1:1/agora")  # nothing listens
    server = MetricsServer(database, lambda: (0, None))
    port = free_port()
    await server.start("127.0.0.1", port)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as health,
        ):
            assert health.status == 503
    finally:
        await server.stop()
        await database.dispose()


async def reaches(host: str, port: int) -> bool:
    """Whether something accepts a connection on host:port."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def test_metrics_listen_on_the_loopback_unless_told_otherwise(
    api: FakeBotAPI, settings: Settings
) -> None:
    # 127.0.0.2 is the loopback too (Linux answers all of 127/8), but not the address 127.0.0.1:
    # a server bound to 127.0.0.1 refuses it, one bound to every interface takes it.
    port = free_port()
    settings = settings.model_copy(update={"metrics_port": port})
    assert settings.metrics_host == "127.0.0.1"
    async with start_agora(api, settings):
        assert await reaches("127.0.0.1", port)
        assert not await reaches("127.0.0.2", port)
    port = free_port()
    everywhere = settings.model_copy(update={"metrics_port": port, "metrics_host": "0.0.0.0"})
    async with start_agora(api, everywhere):
        assert await reaches("127.0.0.2", port)
