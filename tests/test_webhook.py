"""Webhook mode through real HTTP: the local Bot API server posts updates to the bot's
webhook server as Telegram does (secret header, redelivery until 200); requests without the
secret, too large or not JSON are refused and store nothing; a redelivered update does
nothing; one SQLite file serves one bot."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from storage.models import Chat, HandledUpdate
from tests.conftest import TOKEN
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, failing, start_agora
from tests.test_cli import run_bot

pytestmark = pytest.mark.floors

SECRET = "s3cret-webhook_token"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    port = free_port()
    return settings.model_copy(
        update={
            "webhook_url": f"http://127.0.0.1:{port}/telegram",
            "webhook_secret": SecretStr(SECRET),
            "host": "127.0.0.1",
            "port": port,
            "webhook_max_connections": 8,
        }
    )


@pytest.fixture
async def hooked(api: FakeBotAPI, webhook_settings: Settings) -> AsyncIterator[Agora]:
    async with start_agora(api, webhook_settings) as agora:
        yield agora


async def stored(agora: Agora) -> tuple[int, int]:
    """(handled updates, chats) in the database."""
    async with AsyncSession(agora.engine) as session:
        handled = await session.scalar(select(func.count()).select_from(HandledUpdate))
        chats = await session.scalar(select(func.count()).select_from(Chat))
        return int(handled or 0), int(chats or 0)


async def test_updates_come_by_webhook_and_are_answered(hooked: Agora, api: FakeBotAPI) -> None:
    [(_, call)] = [c for c in api.calls if c[0] == "setWebhook"]
    assert call["url"] == hooked.settings.webhook_url
    assert call["secret_token"] == SECRET
    assert call["max_connections"] == 8
    assert "poll_answer" in call["allowed_updates"]
    assert "drop_pending_updates" not in call
    assert not [c for c in api.calls if c[0] in {"deleteWebhook", "getUpdates"}]

    group = api.group(-100700, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    sent = await hooked.command(group, admin, "/sondage")
    polls = [m["poll"] for m in sent if "poll" in m]
    assert len(polls) == 6
    for i in range(9):
        await hooked.vote(polls[0]["id"], api.user(500 + i, f"U{i}"), [i % 3])
    assert await hooked.tallies(polls[0]["id"]) == {0: 3, 1: 3, 2: 3, 3: 0, 4: 0}
    assert {status for _, status in api.webhook_deliveries} == {200}


async def test_requests_without_the_secret_or_malformed_store_nothing(
    hooked: Agora, api: FakeBotAPI
) -> None:
    url = hooked.settings.webhook_url
    assert url is not None
    group = api.group(-100701, "Débat")
    update = {
        "update_id": 900001,
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": group,
            "from": api.user(10, "Ada"),
            "text": "/aide",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    body = json.dumps(update)
    before = await stored(hooked)
    async with aiohttp.ClientSession() as session:
        for headers, data, expected in [
            ({}, body, 403),
            ({HEADER: "wrong"}, body, 403),
            ({HEADER: SECRET + "x"}, body, 403),
            ({HEADER: SECRET}, "{not json", 400),
            ({HEADER: SECRET}, "[1, 2]", 400),
            ({HEADER: SECRET}, json.dumps({"update_id": "7"}), 400),
            ({HEADER: SECRET}, json.dumps({"update_id": 2**63}), 400),
            ({HEADER: SECRET}, json.dumps({"update_id": -5}), 400),
            ({HEADER: SECRET}, '{"update_id": 5, "message": ' + "[" * 100_000, 400),
            ({HEADER: SECRET}, '{"update_id": 6, "x": ' + "[" * 50_000 + "]" * 50_000 + "}", 400),
            ({HEADER: SECRET}, "x" * (2 * 1024 * 1024), 413),
        ]:
            async with session.post(url, data=data, headers=headers) as answer:
                assert answer.status == expected, (headers, data[:20])
        assert await stored(hooked) == before
        assert api.sent() == []
        async with session.get(url.replace("/telegram", "/healthz")) as health:
            assert health.status == 200
        # The same update, with the secret, twice: handled once.
        for _ in range(2):
            async with session.post(url, data=body, headers={HEADER: SECRET}) as answer:
                assert answer.status == 200
    await hooked.sent_out()
    assert len(api.sent(chat_id=group["id"])) == 1


async def test_the_answer_is_200_only_once_stored(hooked: Agora, api: FakeBotAPI) -> None:
    """The database refuses to store the update (a restart, say): Telegram is answered 500
    and posts it again, until it is stored; it is handled once."""
    group = api.group(-100702, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    database = hooked.app.bot_data.services.database
    with failing(database.engine, "INSERT INTO inbox", times=3) as refused:
        update_id = api.send_text(group, admin, "/sondage")
        await hooked.settle(update_id)
    assert len(refused) == 3
    statuses = [status for uid, status in api.webhook_deliveries if uid == update_id]
    assert statuses == [500, 500, 500, 200]
    assert len(api.sent(method="sendPoll")) == 6  # once, although it was delivered four times


async def test_the_answer_does_not_wait_for_the_handling(hooked: Agora, api: FakeBotAPI) -> None:
    """While one chat's update cannot be handled (the database refuses to take it up), it is
    answered 200 at once, and so are the others, which are handled meanwhile."""
    alice = api.user(31, "Alice")
    bob = api.user(32, "Bob")
    database = hooked.app.bot_data.services.database
    stuck = api.send_text(api.private_chat(alice), alice, "/aide")
    with failing(database.engine, "DELETE FROM inbox", times=3, involving=alice["id"]) as refused:
        await api.wait_acked(stuck)
        assert await hooked.command(api.private_chat(bob), bob, "/aide")
        assert api.sent(chat_id=alice["id"]) == []
    assert len(refused) == 3
    await hooked.until(hooked.inbox_empty)
    await hooked.sent_out()
    assert len(api.sent(chat_id=alice["id"])) == 1
    assert {status for uid, status in api.webhook_deliveries if uid == stuck} == {200}


async def test_a_redelivered_update_does_nothing(hooked: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100703, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    sent = await hooked.command(group, admin, "/sondage")
    poll = next(m["poll"]["id"] for m in sent if "poll" in m)
    ids = [api.vote(poll, api.user(600 + i, f"V{i}"), [1]) for i in range(5)]
    await hooked.settle(ids[-1])
    first = api.send_text(group, admin, "/sondage")  # answered by a reply to the first poll
    await hooked.settle(first)
    calls = len(api.sent())
    api.redeliver([*ids, first])  # the answers were lost: Telegram posts them again
    await hooked.settle(first)
    await asyncio.gather(*(hooked.settle(i) for i in ids))
    assert len(api.sent()) == calls
    assert (await hooked.tallies(poll))[1] == 5


async def test_handled_updates_are_forgotten_after_telegram_stops_redelivering(
    hooked: Agora, api: FakeBotAPI
) -> None:
    """Webhook mode has no batch mark to forget handled updates by: the leader forgets, every
    hour, those handled more than 48 hours ago; a recent one is still recognised."""
    group = api.group(-100702, "Débat")
    admin = api.user(10, "Ada")
    first = api.send_text(group, admin, "/aide")
    await hooked.settle(first)
    second = api.send_text(group, admin, "/aide")
    await hooked.settle(second)
    async with AsyncSession(hooked.engine) as session, session.begin():
        old = datetime.now(UTC) - timedelta(hours=49)
        await session.execute(
            update(HandledUpdate).where(HandledUpdate.update_id == first).values(handled_at=old)
        )
    assert [job.name for job in hooked.app.job_queue.jobs() if job.name == "agora-forget"]
    await hooked.app.bot_data.leadership.forget_handled()
    async with AsyncSession(hooked.engine) as session:
        kept = set(await session.scalars(select(HandledUpdate.update_id)))
    assert first not in kept
    assert second in kept
    api.redeliver([second])  # within the window: recognised, nothing sent again
    assert await hooked.settle(second) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_second_bot_on_one_sqlite_file_is_refused(
    agora: Agora, api: FakeBotAPI, database_url: str, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(
        run_bot, cwd=tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url, DATABASE_URL=database_url
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("agora: another Agora instance is using the SQLite database ")
    assert line.endswith("stop it first; several instances need PostgreSQL")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WEBHOOK_URL": "https://bot.example.org/telegram"},
         "agora: WEBHOOK_SECRET is not set (required with WEBHOOK_URL)"),
        ({"WEBHOOK_URL": "https://bot.example.org/telegram", "WEBHOOK_SECRET": "not secret!"},
         "agora: WEBHOOK_SECRET is invalid: must be 1 to 256 characters of A-Z, a-z, 0-9, _ "
         "and -"),
        ({"WEBHOOK_URL": "https://bot.example.org/telegram", "WEBHOOK_SECRET": "a" * 257},
         "agora: WEBHOOK_SECRET is invalid: must be 1 to 256 characters of A-Z, a-z, 0-9, _ "
         "and -"),
        ({"WEBHOOK_URL": "ftp://bot.example.org", "WEBHOOK_SECRET": "abc"},
         "agora: WEBHOOK_URL is invalid: must be an https:// URL"),
    ],
)
def test_webhook_settings_are_checked_at_start(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = run_bot(cwd=tmp_path, BOT_TOKEN=TOKEN, **env)
    assert result.returncode == 2
    assert result.stderr.strip() == expected
    assert "not secret!" not in result.stderr
