"""Self-healing delivery: a database that fails as a call is recorded, claims left behind by
lost tasks or dead instances, and the flood limits' memory across a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.engine import outbox
from bot.engine.outbox import Priority
from bot.engine.sending import sender
from storage.models import OutboxMessage
from storage.outbox import new_message
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, failing, start_agora


async def outbox_rows(agora: Agora) -> list[OutboxMessage]:
    async with AsyncSession(agora.engine) as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def recording_a_poll(sql: str) -> bool:
    return sql.startswith("INSERT INTO POSTED_POLLS")


def marking_sent(sql: str) -> bool:
    return sql.startswith("UPDATE OUTBOX SET") and " STATUS=" in sql


@pytest.mark.parametrize("statement", [recording_a_poll, marking_sent])
async def test_a_poll_whose_mark_fails_once_is_recorded_and_sent_once(
    agora: Agora, api: FakeBotAPI, statement: Callable[[str], bool]
) -> None:
    group = api.group(-100900, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    engine = agora.app.bot_data.services.database.engine
    # Armed once the first poll is out: the failing statement is that poll's mark.
    with failing(engine, statement, when=lambda: api.calls_of("sendPoll")) as failed:
        sent = await agora.command(group, admin, "/sondage")
    assert failed, "the fault was never injected"
    polls = [m["poll"] for m in sent if "poll" in m]
    assert len(polls) == 6
    assert len(api.calls_of("sendPoll")) == 6  # none sent twice
    stored = await agora.polls(group["id"])
    assert [s.poll_id for s in stored] == [p["id"] for p in polls]  # the first one too
    rows = await outbox_rows(agora)
    assert {(r.status, r.claimed_until) for r in rows} == {("sent", None)}

    voter = api.user(20, "Zoé")
    await agora.vote(polls[0]["id"], voter, [1])
    assert await agora.tallies(polls[0]["id"]) == {
        index: int(index == 1) for index in range(len(polls[0]["options"]))
    }


async def test_a_claim_fails_to_be_taken_while_the_database_is_down(
    agora: Agora, api: FakeBotAPI
) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    engine = agora.app.bot_data.services.database.engine
    def the_claim(sql: str) -> bool:
        return sql.startswith("SELECT") and "OUTBOX.PAYLOAD" in sql and "FROM OUTBOX" in sql

    with failing(engine, the_claim) as failed:
        [answer] = await agora.command(api.private_chat(alice), alice, "/aide")
    assert failed
    assert "Commandes" in answer["text"]
    assert [(r.status, r.claimed_until) for r in await outbox_rows(agora)] == [("sent", None)]


async def test_an_expired_claim_is_swept_and_sent_without_a_restart(
    api: FakeBotAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row claimed by an instance that died (or by a task this one lost): no one tells the
    sender of it; the sweep takes it once the claim has expired, not before."""
    monkeypatch.setattr(sender, "SWEEP_EVERY", 0.2)
    alice = api.user(1001, "Alice", language_code="fr")
    api.private_chat(alice)
    async with start_agora(api, settings) as agora:
        now, start = datetime.now(UTC), time.monotonic()
        async with AsyncSession(agora.engine) as session, session.begin():
            row = new_message(
                alice["id"], "sendMessage", {"text": "left behind"}, priority=0, now=now
            )
            row.claimed_until, row.attempts = now + timedelta(seconds=1), 1
            session.add(row)
        async with asyncio.timeout(5):
            while not api.sent(chat_id=alice["id"]):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        [(at, message)] = api.sent_times(chat_id=alice["id"])
        assert message["text"] == "left behind"
        assert at - start >= 0.9  # not taken while still held
        await agora.sent_out()
        [stored] = await outbox_rows(agora)
        assert (stored.status, stored.claimed_until, stored.attempts) == ("sent", None, 2)


async def test_a_group_full_for_the_minute_stays_full_after_a_restart(
    api: FakeBotAPI, settings: Settings
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    api.rate_limit(per_chat_per_minute=20, global_per_second=30)
    group = api.group(-100901, "Débat")
    async with start_agora(api, settings) as agora:
        async with agora.app.bot_data.services.work.unit():
            for n in range(20):
                outbox.send_text(group["id"], f"message {n}", priority=Priority.ANSWER)
        await agora.sent_out()
    assert len(api.sent(chat_id=group["id"])) == 20

    async with start_agora(api, settings) as agora:
        async with agora.app.bot_data.services.work.unit():
            outbox.send_text(group["id"], "the 21st", priority=Priority.ANSWER)
        await asyncio.sleep(2)
        assert agora.sender.queued() == 1  # waiting for the group's minute
    assert len(api.sent(chat_id=group["id"])) == 20
    assert api.too_many_requests == 0  # the sender waited, Telegram never had to refuse
