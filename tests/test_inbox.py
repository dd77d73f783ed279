"""The inbox: updates acknowledged once stored, handled from it; faults heal by themselves."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.engine.metrics import describe_outbox
from storage.models import InboxUpdate
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, failing, start_agora


async def inbox_rows(agora: Agora) -> list[InboxUpdate]:
    async with AsyncSession(agora.engine) as session:
        return list(await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id)))


async def test_a_failing_chat_delays_only_itself_and_heals(
    api: FakeBotAPI, settings: Settings
) -> None:
    """The database refuses, for a while, to take up one chat's update: the update is
    acknowledged all the same (it is stored), the other chats are answered meanwhile, and
    once the database lets it, the update is handled, once, without a restart."""
    alice = api.user(301, "Alice")
    bob = api.user(302, "Bob")
    async with start_agora(api, settings) as agora:
        stuck = api.send_text(api.private_chat(alice), alice, "/aide")
        database = agora.app.bot_data.services.database
        # The claim of Alice's next update names her chat (not the update: see claim_head).
        claims = failing(database.engine, "DELETE FROM inbox", times=4, involving=alice["id"])
        with claims as refused:
            await api.wait_acked(stuck)  # stored: Telegram may forget it
            answered = await agora.command(api.private_chat(bob), bob, "/aide")
            assert [m["chat"]["id"] for m in answered] == [bob["id"]]
            assert api.sent(chat_id=alice["id"]) == []
            await agora.until(lambda: asyncio.sleep(0, result=len(refused) == 4))
        await agora.until(lambda: agora.inbox_empty())
        await agora.sent_out()
        assert len(api.sent(chat_id=alice["id"])) == 1  # handled once, by itself
        assert api.sent(chat_id=alice["id"])[0]["text"] == api.sent(chat_id=bob["id"])[0]["text"]


async def test_updates_stored_but_not_handled_are_handled_after_a_restart(
    api: FakeBotAPI, settings: Settings
) -> None:
    """Stopped while its updates cannot be handled (the database refuses to take them up),
    the bot has acknowledged them all the same: the next start handles them, each once."""
    alice = api.user(303, "Alice", language_code="en")
    with ExitStack() as faults:
        async with start_agora(api, settings) as agora:
            database = agora.app.bot_data.services.database
            faults.enter_context(failing(database.engine, "DELETE FROM inbox", times=1_000))
            last = 0
            for _ in range(3):
                last = api.send_text(api.private_chat(alice), alice, "/help")
            await api.wait_acked(last)
            assert len(await inbox_rows(agora)) == 3
    assert api.sent(chat_id=alice["id"]) == []
    async with start_agora(api, settings) as agora:
        await agora.until(lambda: agora.inbox_empty())
        await agora.sent_out()
        answers = api.sent(chat_id=alice["id"])
        assert len(answers) == 3
        assert all("/results" in m["text"] for m in answers)  # in the person's language


async def test_an_unreadable_update_is_set_aside_with_its_reason(
    api: FakeBotAPI, settings: Settings
) -> None:
    alice = api.user(304, "Alice")
    async with start_agora(api, settings) as agora:
        bad = api.push_update({"message": {"message_id": "not a number", "chat": "?"}})
        answered = await agora.command(api.private_chat(alice), alice, "/aide")
        assert len(answered) == 1  # the next update is not held up
        [row] = await inbox_rows(agora)
        assert (row.update_id, row.set_aside) == (bad, "unreadable")
        assert row.body == f'{{"update_id":{bad}}}'  # what people wrote is not kept
        line = await describe_outbox(settings.database_url)
        assert "inbox: 0 waiting" in line
        assert "1 set aside" in line


async def test_a_vote_pushed_the_instant_its_poll_is_sent_is_counted(
    api: FakeBotAPI, settings: Settings
) -> None:
    """Telegram can deliver an answer before the bot has recorded the poll it answers (the
    poll's id comes back with sendPoll): the answer waits for the poll, then counts."""
    group = api.group(-100911, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    early: list[tuple[str, int]] = []

    def vote_at_once(result: Any) -> None:
        poll = result["poll"]["id"]
        if not early:
            early.append((poll, api.vote(poll, api.user(700, "Prompte"), [2])))

    api.on_result["sendPoll"] = vote_at_once
    async with start_agora(api, settings) as agora:
        await agora.command(group, admin, "/sondage")
        [(poll, _update_id)] = early

        async def counted() -> bool:
            return (await agora.tallies(poll)).get(2) == 1

        await agora.until(counted)
        assert await agora.ballots(poll) == {700: [2]}
        assert await agora.inbox_empty()


async def test_a_failing_handler_sets_its_update_aside_without_what_was_written(
    agora: Agora, api: FakeBotAPI
) -> None:
    """A handler that raises (here: Telegram cannot say who administers the group) sets its
    update aside with the reason, keeping neither the person's name nor their words, and
    tells them; the update is not tried again."""
    group = api.group(-100912, "Débat")
    member = api.user(11, "Qwxname")
    api.fail_next("getChatAdministrators", 400, "Bad Request: chat not found")
    update_id = api.send_text(group, member, "/sondage anonyme")
    [sorry] = await agora.settle(update_id)
    assert sorry["text"] == "Désolé, une erreur s’est produite. Réessayez un peu plus tard."
    [row] = await inbox_rows(agora)
    assert (row.update_id, row.set_aside) == (update_id, "failed: BadRequest")
    assert "Qwx" not in row.body
    assert "anonyme" not in row.body
    await agora.sweep()
    assert await agora.settle(update_id) == []  # not tried again
