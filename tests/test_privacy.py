"""Privacy that holds: after /forgetme no copy of the person's name, votes or opinions stays
anywhere in the database, including the outbox's calls already made or still waiting."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import OutboxMessage
from storage.outbox import PENDING, SENT
from tests.botapi.server import FakeBotAPI
from tests.harness import Agora

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
    await agora.command(group, admin, "/bilan now")
    await agora.until(lambda: agora.digest_settled(0))
    assert any(NAME in m.get("text", "") for m in agora.new_messages())
    await agora.command(group, admin, "/exporter")
    private = api.private_chat(person)
    [question] = await agora.command(private, person, "/oublier")
    assert NAME in question["text"]

    # And one still waiting: a listing page that Telegram keeps refusing for a while (429).
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2,
                  chat_id=group["id"])
    waiting_id = api.send_text(group, other, "/opinions")
    await api.wait_acked(waiting_id)
    async with AsyncSession(agora.engine) as session:
        waiting = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
        )
    assert waiting == 1
    found = await where_found(agora.engine, NAME, SURNAME, "Qwzopinion")
    assert {("opinions", "author"), ("opinions", "text"), ("ballots", "voter_name"),
            ("outbox", "payload")} <= found

    yes, _no = question["reply_markup"]["inline_keyboard"][0]
    await api.wait_acked(
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
