"""Nothing is lost, nothing is counted twice: redelivery, restarts, SIGKILL and SIGTERM."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.settings import Settings
from bot.engine.reading import transient
from bot.engine.sending.flood import FloodLimits
from storage.models import Ballot, PostedPoll, SentDigest
from tests.support.botapi import FakeBotAPI
from tests.support.harness import assert_counts_are_the_answers, start_agora
from tests.support.processes import TOKEN, bot_process, kill, last_words, stop

pytestmark = pytest.mark.slow

IN_FLIGHT = FloodLimits().concurrency  # calls the sender makes at once


async def test_redelivered_updates_are_harmless(api: FakeBotAPI, settings: Settings) -> None:
    group = api.group(-100200, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    async with start_agora(api, settings) as agora:
        sent = await agora.command(group, admin, "/sondage")
        poll = next(m["poll"]["id"] for m in sent if "poll" in m)
        ids = [api.vote(poll, api.user(500 + i, f"U{i}"), [i % 3]) for i in range(9)]
        await agora.settle(ids[-1])
        polls_before = len(api.sent(method="sendPoll"))
    # Telegram never got the acknowledgement: it sends the same updates again.
    api.redeliver(ids)
    async with start_agora(api, settings) as agora:
        await agora.settle(ids[-1])
        assert await agora.tallies(poll) == {0: 3, 1: 3, 2: 3, 3: 0, 4: 0}
        assert len(await agora.ballots(poll)) == 9
        assert len(api.sent(method="sendPoll")) == polls_before


async def test_an_update_the_bot_cannot_read_is_skipped(agora, api: FakeBotAPI) -> None:
    weird = api.push_update({"message": {"message_id": "not a number"}})
    bob = api.user(1002, "Bob", language_code="en")
    [reply] = await agora.command(api.private_chat(bob), bob, "/help")
    assert "Commands" in reply["text"]
    assert api.acked_offset > weird


async def test_a_failing_handler_answers_and_keeps_the_others(agora, api: FakeBotAPI) -> None:
    # A command from a user whose rights the server cannot tell (unknown chat member lookup).
    group = api.group(-100201, "Débat")
    member = api.user(11, "Max")
    api.fail_next("getChatAdministrators", 400, "Bad Request: chat not found")
    [sorry] = await agora.command(group, member, "/sondage")
    assert sorry["text"] == "Désolé, une erreur s’est produite. Réessayez un peu plus tard."
    [help_text] = await agora.command(group, member, "/aide")
    assert "Commandes" in help_text["text"]


async def sent_count(api: FakeBotAPI, method: str, count: int, chat_id: int | None = None) -> None:
    """Wait (60 s at most) until the bot made `count` calls of `method`."""
    async with asyncio.timeout(60):
        while len(api.sent(chat_id=chat_id, method=method)) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def ballots_counted(database_url: str, count: int) -> None:
    """Wait (60 s at most) until `count` named answers are stored."""
    engine = create_async_engine(database_url)
    async with asyncio.timeout(60):
        while True:
            async with engine.connect() as connection:
                if await connection.scalar(select(func.count()).select_from(Ballot)) >= count:
                    break
            await asyncio.sleep(0.05)
    await engine.dispose()


@pytest.mark.parametrize("kill_at", [0.2, 0.55])
async def test_sigkill_during_a_vote_storm_counts_every_vote_once(
    api: FakeBotAPI, database_url: str, kill_at: float
) -> None:
    group = api.group(-100300, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    process = await bot_process(api, database_url)
    await api.wait_acked(api.send_text(group, admin, "/sondage"), timeout=60)
    await sent_count(api, "sendPoll", 6)
    polls = [m["poll"] for m in api.sent(method="sendPoll")]
    assert len(polls) == 6

    rng = random.Random(kill_at)
    final: dict[tuple[str, int], list[int]] = {}
    first = last = 0
    for i in range(3000):
        poll = polls[i % 6]
        user_id = 10_000 + rng.randrange(1500)
        count = len(poll["options"])
        choice = (
            sorted(rng.sample(range(count), rng.randint(0, 3)))
            if poll["allows_multiple_answers"]
            else ([] if rng.random() < 0.05 else [rng.randrange(count)])
        )
        last = api.vote(poll["id"], api.user(user_id, f"U{user_id}"), choice)
        first = first or last
        final[(poll["id"], user_id)] = choice
    kill_after = first + int((last - first) * kill_at)
    await api.wait_acked(kill_after, timeout=60)
    await kill(process)
    assert api.pending_count() > 0, "the storm ended before the kill; nothing was tested"

    process = await bot_process(api, database_url)
    await api.wait_acked(last, timeout=120)
    assert TOKEN not in await stop(process)

    await assert_counts_are_the_answers(database_url, final)


async def test_sigterm_finishes_the_batch_and_exits_cleanly(
    api: FakeBotAPI, database_url: str
) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    process = await bot_process(api, database_url)
    await api.wait_acked(api.send_text(api.private_chat(alice), alice, "/aide"), timeout=60)
    assert "Traceback" not in await stop(process)


def zone_in_daytime() -> tuple[str, datetime]:
    """A time zone where it is now between 01:00 and 22:00, so the test never straddles
    midnight, and the local time there."""
    for name in ("Europe/Paris", "America/New_York", "Asia/Tokyo", "Pacific/Honolulu",
                 "Asia/Kolkata", "America/Los_Angeles"):
        local = datetime.now(ZoneInfo(name))
        if 1 <= local.hour < 22:
            return name, local
    raise AssertionError("no time zone in daytime")


async def test_sigkill_right_after_a_digest_never_sends_it_twice(
    api: FakeBotAPI, database_url: str
) -> None:
    group = api.group(-100400, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    zone, local = zone_in_daytime()
    earlier = (local - timedelta(minutes=2)).strftime("%H:%M")
    process = await bot_process(api, database_url)
    await api.wait_acked(api.send_text(group, admin, "/sondage"), timeout=60)
    await sent_count(api, "sendPoll", 6)
    poll = api.sent(method="sendPoll")[0]["poll"]["id"]
    api.vote(poll, api.user(700, "V"), [1])
    # Counted before the kill: a vote that waits for its poll to be recorded (a busy
    # machine) would be counted only after the restart, after the digest that has no chart
    # without votes.
    await ballots_counted(database_url, 1)
    answers = len(api.sent(chat_id=group["id"], method="sendMessage"))
    api.send_text(group, admin, f"/fuseau {zone}")
    api.send_text(group, admin, f"/bilan {earlier}")
    # Both answered: handled (acknowledged only means stored, and handled after a restart).
    await sent_count(api, "sendMessage", answers + 2, chat_id=group["id"])
    assert api.sent(method="sendPhoto") == []  # today's time had passed: armed for tomorrow
    await kill(process)

    # Back the same day after the hour: the missed digest goes out; killed right after.
    process = await bot_process(api, database_url, LOG_LEVEL="INFO")
    try:
        async with asyncio.timeout(60):
            # Poll tightly: the point is to kill as soon as the photo lands.
            while not api.sent(chat_id=group["id"], method="sendPhoto"):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
    except TimeoutError:
        sent = [m.get("text", "photo")[:30] for m in api.sent(chat_id=group["id"])]
        raise AssertionError(
            f"no chart within 60 s of the restart; sent: {sent}; the bot said:\n"
            f"{await last_words(process)}"
        ) from None
    await kill(process)
    texts = [m for m in api.sent(chat_id=group["id"]) if "Bilan du" in m.get("text", "")]
    assert len(texts) == 1

    process = await bot_process(api, database_url)
    await api.wait_acked(api.send_text(group, admin, "/aide"), timeout=60)
    await asyncio.sleep(2)  # time for a (wrong) catch-up to happen
    await stop(process)
    texts = [m for m in api.sent(chat_id=group["id"]) if "Bilan du" in m.get("text", "")]
    assert len(texts) == 1
    # The chart was out but not yet marked sent when the bot was killed: it may go out once
    # more after the restart (at least once, never zero times), never the digest again.
    assert len(api.sent(chat_id=group["id"], method="sendPhoto")) in (1, 2)


async def test_updates_the_bot_does_not_handle_change_nothing(agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    channel = {"id": -1009999, "type": "channel", "title": "Actu"}
    odd = [
        {"channel_post": {"message_id": 1, "date": 1_700_000_000, "chat": channel,
                          "sender_chat": channel, "text": "/sondage"}},
        {"inline_query": {"id": "42", "from": alice, "query": "openai", "offset": ""}},
        {"message": {"message_id": 900, "date": 1_700_000_000, "chat": chat, "from": alice,
                     "sticker": {"file_id": "s", "file_unique_id": "u", "type": "regular",
                                 "width": 512, "height": 512, "is_animated": False,
                                 "is_video": False}}},
        {"message_reaction": {"chat": chat, "message_id": 900, "user": alice,
                              "date": 1_700_000_000, "old_reaction": [],
                              "new_reaction": [{"type": "emoji", "emoji": "👍"}]}},
        {"some_future_update": {"anything": True}},
    ]
    ids = [api.push_update(update) for update in odd]
    [answer] = await agora.command(chat, alice, "/aide")
    assert "Commandes" in answer["text"]
    assert api.acked_offset > ids[-1]
    assert api.sent(chat_id=channel["id"]) == []


async def test_sigkill_during_a_poll_command_completes_it_after_restart(
    api: FakeBotAPI, database_url: str
) -> None:
    group = api.group(-100500, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    process = await bot_process(api, database_url, rate_limit=True)
    for _ in range(16):  # the group's minute is nearly used up: the last polls must wait
        await api.wait_acked(api.send_text(group, admin, "/aide"), timeout=60)
    api.send_text(group, admin, "/sondage")
    await sent_count(api, "sendPoll", 3, chat_id=group["id"])
    await asyncio.sleep(0.5)  # the third is recorded (killed sooner, it would go out twice)
    await kill(process)  # three polls out, three waiting for the group's next minute

    process = await bot_process(api, database_url)
    await sent_count(api, "sendPoll", 6, chat_id=group["id"])
    await api.wait_acked(api.send_text(group, admin, "/aide"), timeout=60)
    await stop(process)
    questions = Counter(m["poll"]["question"] for m in api.sent(group["id"], "sendPoll"))
    assert len(questions) == 6  # every question posted: the missing ones only
    assert sum(questions.values()) == 6
    intros = [m for m in api.sent(group["id"]) if m.get("text", "").startswith("🗳")]
    assert len(intros) == 1
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(PostedPoll))
    await engine.dispose()
    assert stored == 6


async def test_sigkill_during_a_burst_of_answers_loses_none(
    api: FakeBotAPI, database_url: str
) -> None:
    people = [api.user(4000 + n, f"P{n}", language_code="fr") for n in range(90)]
    process = await bot_process(api, database_url, rate_limit=True)
    await api.wait_acked(api.send_text(api.private_chat(people[0]), people[0], "/aide"), 60)
    for person in people[1:]:
        api.send_text(api.private_chat(person), person, "/aide")
    async with asyncio.timeout(60):
        while len(api.sent(method="sendMessage")) < 30:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
    await kill(process)  # 28 answers a second: most are still to go
    answered = len(api.sent(method="sendMessage"))
    assert answered < 80, "the burst ended before the kill; nothing was tested"

    process = await bot_process(api, database_url)
    async with asyncio.timeout(60):
        while any(not api.sent(chat_id=p["id"]) for p in people):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await stop(process)
    counts = Counter(m["chat"]["id"] for m in api.sent(method="sendMessage"))
    assert all(counts[p["id"]] >= 1 for p in people)  # no answer lost
    # Only an answer sent just before the kill, not yet marked, may go out twice.
    assert sum(counts.values()) - len(people) <= IN_FLIGHT


async def test_sigkill_during_a_digest_fan_out_sends_each_digest(
    api: FakeBotAPI, database_url: str
) -> None:
    zone, local = zone_in_daytime()
    earlier = (local - timedelta(minutes=2)).strftime("%H:%M")
    groups = [api.group(-100600 - n, f"G{n}") for n in range(60)]
    admin = api.user(10, "Ada")
    process = await bot_process(api, database_url)
    for group in groups:
        api.set_admin(group["id"], admin)
        api.send_text(group, admin, f"/fuseau {zone}")
        api.send_text(group, admin, f"/bilan {earlier}")
    for group in groups:  # both answered: handled, not only stored
        await sent_count(api, "sendMessage", 2, chat_id=group["id"])
    await kill(process)
    sent_before = len(api.sent())

    # Back after the hour: 60 digests due at once, at 28 messages a second; killed mid-way.
    process = await bot_process(api, database_url, rate_limit=True)
    async with asyncio.timeout(60):
        while len(api.sent()) < sent_before + 20:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
    await kill(process)
    assert len(api.sent()) < sent_before + 55, "the fan-out ended before the kill"

    process = await bot_process(api, database_url)
    def digests_in(group: dict) -> int:
        return sum("Bilan du" in m.get("text", "") for m in api.sent(chat_id=group["id"]))

    async with asyncio.timeout(60):
        while any(digests_in(group) == 0 for group in groups):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await api.wait_acked(api.send_text(groups[0], admin, "/aide"), timeout=60)
    await stop(process)
    counts = [digests_in(group) for group in groups]
    assert min(counts) == 1  # every group got its digest
    assert sum(counts) - len(groups) <= IN_FLIGHT  # those sent just before the kill may repeat
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        rows = await connection.execute(select(SentDigest.chat_id, SentDigest.status))
        records = list(rows)
    await engine.dispose()
    assert sorted(chat for chat, _ in records) == sorted(g["id"] for g in groups)
    assert {status for _, status in records} == {"sent"}


def test_only_database_and_connection_errors_are_tried_again() -> None:
    """A handler's error that may pass (the database is busy, its connection dropped) has the
    update tried again; a file error (a defect) is reported at once, not tried six times."""
    busy = OperationalError("UPDATE chats", {}, Exception("database is locked"))
    assert transient(busy)
    assert transient(ConnectionRefusedError(111, "Connect call failed"))
    assert transient(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert not transient(IsADirectoryError(21, "Is a directory", "/usr/share/zoneinfo/Europe"))
    assert not transient(ValueError("a defect"))
