"""Privacy that holds: after /forgetme no copy of the person's name, votes or opinions stays
anywhere in the database, including the outbox's calls already made or still waiting; and no
log line, at DEBUG, holds a name or an opinion unless LOG_PERSONAL_DATA says so."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import OutboxMessage
from storage.outbox import PENDING, SENT
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora
from tests.support.processes import bot_process
from tests.test_reliability import sent_count

# Unique markers: nothing else the bot stores can contain them by chance.
NAME, SURNAME = "Xenocrate", "Qwzlast"
OPINION = "Qwzopinion: the board of directors should have explained itself much sooner"


def rendered(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


async def where_found(engine: AsyncEngine, *markers: str) -> set[tuple[str, str]]:
    """(table, column) of every stored value, in every table of the database, that contains
    one of the markers."""
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        found = set()
        for table in tables:
            result = await connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if value is not None and any(m in rendered(value) for m in markers):
                        found.add((table, column))
    return found


async def test_forget_me_leaves_no_copy_of_the_person(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100900, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    person = api.user(90, NAME, last_name=SURNAME)
    other = api.user(91, "Paul")
    sent = await agora.command(group, admin, "/sondage")
    polls = [m for m in sent if "poll" in m]
    await agora.vote(polls[0]["poll"]["id"], person, [0])
    await agora.vote(polls[0]["poll"]["id"], other, [1])
    await agora.command(group, person, OPINION, reply_to_message_id=polls[0]["message_id"])
    await agora.command(group, person, f"/avis {OPINION} (bis)")
    await agora.command(group, other, "/avis L'avis de Paul, qui reste")

    # Copies of the person in calls the bot made: a listing page, a digest's excerpts, the
    # export (its file), the question /oublier asks.
    [page] = await agora.command(group, other, "/opinions")
    assert NAME in page["text"]
    assert OPINION in page["text"]
    digest = await agora.command(group, admin, "/bilan now")  # queued as the command's answer
    await agora.until(lambda: agora.digest_settled(0))
    assert any(NAME in m.get("text", "") for m in [*digest, *agora.new_messages()])
    await agora.command(group, admin, "/exporter")
    private = api.private_chat(person)
    [question] = await agora.command(private, person, "/oublier")
    assert NAME in question["text"]

    # And one still waiting: a listing page that Telegram keeps refusing for a while (429);
    # a new opinion first, so that it is not the same page as ten seconds ago (answered once).
    await agora.command(group, other, "/avis Paul y revient")
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2,
                  chat_id=group["id"])
    waiting_id = api.send_text(group, other, "/opinions")
    await agora.handled(waiting_id)
    async with AsyncSession(agora.engine) as session:
        waiting = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
        )
    assert waiting == 1
    found = await where_found(agora.engine, NAME, SURNAME, "Qwzopinion")
    assert {("opinions", "author"), ("opinions", "text"), ("ballots", "voter_name"),
            ("outbox", "payload")} <= found

    yes, _no = question["reply_markup"]["inline_keyboard"][0]
    await agora.handled(
        api.callback_query(private, person, question["message_id"], yes["callback_data"])
    )
    assert await where_found(agora.engine, NAME, SURNAME, "Qwzopinion") == set()

    # The waiting page goes out without the person; Paul's opinion is still there.
    await asyncio.sleep(2)
    await agora.sent_out()
    [late] = [m for m in agora.new_messages() if m["chat"]["id"] == group["id"]]
    assert "L'avis de Paul, qui reste" in late["text"]
    assert NAME not in late["text"]
    assert "Qwzopinion" not in late["text"]
    assert await where_found(agora.engine, NAME, SURNAME, "Qwzopinion") == set()

    # What the counts need stays: every row, with its method, chat, status and times.
    async with AsyncSession(agora.engine) as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert {row.status for row in rows} == {SENT}
    assert all(row.done_at is not None and row.created_at is not None for row in rows)
    assert sum(1 for row in rows if (row.method, row.chat_id) == ("sendDocument", group["id"])) == 1


async def logs_of_a_discussion(api: FakeBotAPI, database_url: str, **settings: str) -> str:
    """Everything `python -m bot` logs at DEBUG while someone votes, writes opinions, lists
    them and has them forgotten."""
    group = api.group(-100910, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    person = api.user(92, NAME, last_name=SURNAME)
    process = await bot_process(
        api, database_url, stdout=asyncio.subprocess.DEVNULL, LOG_LEVEL="DEBUG", **settings
    )
    assert process.stderr is not None
    stderr = asyncio.create_task(process.stderr.read())  # read as it comes: the pipe is small
    try:
        await api.wait_acked(api.send_text(group, admin, "/sondage"), timeout=60)
        await sent_count(api, "sendPoll", 6)
        [poll, *_] = api.sent(method="sendPoll")
        await api.wait_acked(api.vote(poll["poll"]["id"], person, [0]))
        await api.wait_acked(
            api.send_text(group, person, OPINION, reply_to_message_id=poll["message_id"])
        )
        await api.wait_acked(api.send_text(group, person, f"/avis {OPINION} (bis)"))
        await api.wait_acked(api.send_text(group, admin, "/opinions"))
        private = api.private_chat(person)
        await api.wait_acked(api.send_text(private, person, "/oublier"))
        await sent_count(api, "sendMessage", 1, chat_id=private["id"])
        [question] = api.sent(chat_id=private["id"], method="sendMessage")
        yes, _no = question["reply_markup"]["inline_keyboard"][0]
        await api.wait_acked(
            api.callback_query(private, person, question["message_id"], yes["callback_data"])
        )
        async with asyncio.timeout(30):
            while not api.calls_of("editMessageText"):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    logs = (await stderr).decode("utf-8", "replace")
    assert " DEBUG " in logs
    return logs


async def test_debug_logs_hold_no_name_or_opinion(api: FakeBotAPI, database_url: str) -> None:
    logs = await logs_of_a_discussion(api, database_url)
    assert [line for line in logs.splitlines() if NAME in line or "Qwzopinion" in line] == []
    assert SURNAME not in logs


async def test_debug_logs_hold_them_when_the_operator_asks(
    api: FakeBotAPI, database_url: str
) -> None:
    logs = await logs_of_a_discussion(api, database_url, LOG_PERSONAL_DATA="true")
    assert NAME in logs
    assert "Qwzopinion" in logs
