"""The outbox and the per-chat lanes: answers first, each chat in order, one busy chat never
holding up the others, failures of a send, and what `python -m bot outbox` reports."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bot.core.settings import Settings
from bot.engine import outbox
from bot.engine.outbox import Priority
from bot.engine.sending.flood import FloodLimits
from storage.digests import claim_digest
from storage.models import OutboxMessage, PostedPoll, SentDigest, SummaryPost
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, start_agora


async def queue_texts(agora: Agora, rows: list[tuple[int, str, Priority]]) -> None:
    """Queue text messages as a handler or a digest would: in one unit of work."""
    async with agora.app.bot_data.services.work.unit():
        for chat_id, text, priority in rows:
            outbox.send_text(chat_id, text, priority=priority)


async def until_sent(api: FakeBotAPI, chat_id: int, count: int = 1, within: float = 5) -> None:
    async with asyncio.timeout(within):
        while len(api.sent(chat_id=chat_id)) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_an_answer_overtakes_500_digest_messages(
    api: FakeBotAPI, settings: Settings
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    readers = [api.private_chat(api.user(20_000 + n, f"R{n}")) for n in range(500)]
    async with start_agora(api, settings) as agora:
        await queue_texts(
            agora, [(chat["id"], f"digest {n}", Priority.DIGEST) for n, chat in enumerate(readers)]
        )
        alice = api.user(1001, "Alice", language_code="fr")
        api.send_text(api.private_chat(alice), alice, "/aide")
        await until_sent(api, alice["id"])
        order = [m["chat"]["id"] for m in api.sent(method="sendMessage")]
        before = order.index(alice["id"])
        # Out of 500 queued before it, only calls already under way went first (those in
        # flight, and the few that started while the answer was being claimed).
        assert before <= 2 * FloodLimits().concurrency, f"{before} digests went first"
        assert len(order) < 250


async def test_each_chat_in_order_whatever_the_priority(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100700, "Débat")
    await queue_texts(
        agora,
        [
            (group["id"], "first (a digest)", Priority.DIGEST),
            (group["id"], "second (a poll)", Priority.POLL),
            (group["id"], "third (an answer)", Priority.ANSWER),
        ],
    )
    await agora.sent_out()
    assert [m["text"] for m in api.sent(chat_id=group["id"])] == [
        "first (a digest)",
        "second (a poll)",
        "third (an answer)",
    ]


async def test_a_group_at_its_flood_limit_holds_up_no_one_else(
    api: FakeBotAPI, settings: Settings
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    group = api.group(-100701, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    async with start_agora(api, settings) as agora:
        for _ in range(16):  # the group already got 16 messages this minute
            await agora.command(group, admin, "/aide")
        api.send_text(group, admin, "/sondage")  # 7 messages: 3 wait for the next minute
        await until_sent(api, group["id"], 16 + 4)
        people = [api.user(3000 + n, f"P{n}") for n in range(10)]
        for person in people:
            api.send_text(api.private_chat(person), person, "/aide")
        for person in people:
            await until_sent(api, person["id"], within=3)
            assert "Commandes" in api.sent(chat_id=person["id"])[0]["text"]
        # The group's last polls still wait for its minute, recorded as they go out.
        async with asyncio.timeout(2):
            while agora.sender.queued() > 3:  # noqa: ASYNC110 (the answers being marked)
                await asyncio.sleep(0.01)
        assert agora.sender.queued() == 3
        assert len(api.sent(chat_id=group["id"], method="sendPoll")) == 3
        assert len(await agora.polls(group["id"])) == 3


async def test_a_second_poll_command_while_the_first_is_queued(
    api: FakeBotAPI, settings: Settings
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    group = api.group(-100702, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    async with start_agora(api, settings) as agora:
        for _ in range(19):
            await agora.command(group, admin, "/aide")
        api.send_text(group, admin, "/sondage")  # the intro goes, the polls wait a minute
        await until_sent(api, group["id"], 20)
        update_id = api.send_text(group, admin, "/sondage")
        await agora.handled(update_id)
        async with AsyncSession(agora.engine) as session:
            queued = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status == "pending", OutboxMessage.method == "sendPoll"
                )
            )
        assert queued == 6  # not twelve: the second /sondage queued no poll
        assert agora.sender.queued() == 7  # the six polls, then the answer, in the chat's order


async def test_a_refused_call_is_dropped_and_the_chat_goes_on(
    agora: Agora, api: FakeBotAPI
) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    api.fail_next("sendMessage", 400, "Bad Request: can't parse entities", chat_id=alice["id"])
    assert await agora.command(chat, alice, "/aide") == []
    [answer] = await agora.command(chat, alice, "/aide")
    assert "Commandes" in answer["text"]
    async with AsyncSession(agora.engine) as session:
        statuses = list(await session.scalars(select(OutboxMessage.status).order_by(
            OutboxMessage.id)))
    assert statuses == ["dropped", "sent"]


async def test_network_errors_and_flood_waits_are_retried(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    chat = api.private_chat(alice)
    api.fail_next("sendMessage", 502, "Bad Gateway", chat_id=alice["id"])
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1,
                  chat_id=alice["id"])
    [answer] = await agora.command(chat, alice, "/aide")
    assert "Commandes" in answer["text"]
    calls = [c for c in api.calls_of("sendMessage") if c.get("chat_id") == alice["id"]]
    assert len(calls) == 3


async def test_a_blocked_chat_drops_its_queue(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100703, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    await agora.command(group, admin, "/aide")
    api.block_chat(group["id"])
    await queue_texts(agora, [(group["id"], f"message {n}", Priority.ANSWER) for n in range(5)])
    await agora.sent_out()
    async with AsyncSession(agora.engine) as session:
        pending = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == "pending"
            )
        )
    assert pending == 0
    assert len(api.calls_of("sendMessage")) == 1 + 1  # one answer, one refused: no retries
    chat = await agora.chat(group["id"])
    assert chat is not None
    assert chat.active is False


async def test_polls_recorded_as_they_go_out(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100704, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    api.fail_next("sendPoll", 400, "Bad Request: poll can't be sent", chat_id=group["id"])
    sent = await agora.command(group, admin, "/sondage")
    polls = [m["poll"] for m in sent if "poll" in m]
    assert len(polls) == 5  # the first was refused; the others went out, each recorded
    async with AsyncSession(agora.engine) as session:
        stored = set(await session.scalars(select(PostedPoll.poll_id)))
    assert stored == {poll["id"] for poll in polls}


async def test_undelivered_messages_go_out_after_a_restart(
    api: FakeBotAPI, settings: Settings
) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    api.fail_next("sendMessage", 502, "Bad Gateway", chat_id=alice["id"])
    async with start_agora(api, settings) as agora:
        await agora.handled(api.send_text(api.private_chat(alice), alice, "/aide"))
        assert agora.sender.queued() == 1  # waiting to be tried again
    assert api.sent(chat_id=alice["id"]) == []
    async with start_agora(api, settings) as agora:
        await agora.sent_out()
        [answer] = api.sent(chat_id=alice["id"])
        assert "Commandes" in answer["text"]


def previous_version_rows(chat_id: int, digest_id: int) -> list[tuple[str, int, Any, Any]]:
    """(method, priority, payload, effect) of pending rows as the version before typed effects
    wrote them, verbatim: plain strings, numbers and dicts."""
    vote = {"type": "emoji", "emoji": "👍"}
    return [
        ("sendPoll", 1,
         {"question": "D'accord ?", "options": [{"text": "Oui"}, {"text": "Non"}],
          "is_anonymous": False, "allows_multiple_answers": False},
         {"kind": "poll", "article_id": "old-article", "question_key": "q1", "language": "fr",
          "anonymous": False, "multiple": False}),
        ("sendMessage", 0, {"text": "Le résumé"}, {"kind": "summary", "article_id": "old-article"}),
        ("sendMessage", 2, {"text": "Bilan, 1/2"},
         {"kind": "digest", "digest_id": digest_id, "last": False}),
        ("sendMessage", 2, {"text": "Bilan, 2/2"},
         {"kind": "digest", "digest_id": digest_id, "last": True}),
        ("setMessageReaction", 0, {"message_id": 1, "reaction": [vote]},
         {"fallback": {"text": "Merci, votre avis est enregistré."}}),
    ]


async def test_rows_queued_by_the_previous_version_go_out_after_an_upgrade(
    api: FakeBotAPI, settings: Settings
) -> None:
    """Rows pending when the new version starts, in the previous version's format, are sent
    and record what they taught as they did: the poll, the summary, the digest's completion,
    and the reaction Telegram refuses is a text instead."""
    group = api.group(-100705, "Débat")
    admin = api.user(10, "Ada")
    async with start_agora(api, settings) as agora:
        await agora.command(group, admin, "/aide")  # the chat is recorded
    now, engine = datetime.now(UTC), create_async_engine(settings.database_url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            digest = await claim_digest(
                session, chat_id=group["id"], local_date=now.date(), daily=False,
                started_at=now, numbers={},
            )
            assert digest is not None
            digest_id = digest.id
            session.add_all(
                OutboxMessage(chat_id=group["id"], priority=priority, method=method,
                              payload=payload, effect=effect, status="pending", attempts=0,
                              created_at=now)
                for method, priority, payload, effect in previous_version_rows(
                    group["id"], digest_id
                )
            )
    finally:
        await engine.dispose()
    api.fail_next("setMessageReaction", 400, "Bad Request: REACTION_INVALID")
    before = len(api.sent(chat_id=group["id"]))
    async with start_agora(api, settings) as agora:
        await agora.sent_out()
        sent = api.sent(chat_id=group["id"])[before:]
        assert [m.get("text") for m in sent if "poll" not in m] == [
            "Le résumé", "Bilan, 1/2", "Bilan, 2/2", "Merci, votre avis est enregistré."
        ]
        [poll] = [m for m in sent if "poll" in m]
        [posted] = await agora.polls(group["id"])
        assert (posted.poll_id, posted.message_id) == (poll["poll"]["id"], poll["message_id"])
        assert (posted.article_id, posted.question_key, posted.language) == (
            "old-article", "q1", "fr"
        )
        async with AsyncSession(agora.engine) as session:
            summary = await session.scalar(select(SummaryPost))
            record = await session.get(SentDigest, digest_id)
            statuses = list(await session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.method == "setMessageReaction")
            ))
        assert summary is not None
        assert (summary.message_id, summary.article_id) == (sent[1]["message_id"], "old-article")
        assert record is not None
        assert record.status == "sent"
        assert statuses == ["dropped"]


async def test_admin_rights_are_read_outside_the_transaction_and_cached(
    agora: Agora, api: FakeBotAPI
) -> None:
    group = api.group(-100705, "Débat")
    ada, max_ = api.user(10, "Ada"), api.user(11, "Max")
    api.set_admin(group["id"], ada)
    [english] = await agora.command(group, ada, "/langue en")
    assert english["text"].startswith("From now on I speak English")
    await agora.command(group, ada, "/lang fr")
    [refused] = await agora.command(group, max_, "/langue en")
    assert refused["text"] == (
        "Seuls les administrateurs du groupe peuvent changer la langue\u00a0: "
        "demandez-le à l’un d’eux."
    )
    assert len(api.calls_of("getChatAdministrators")) == 1  # one read for three decisions

    # Max is promoted: Telegram says so with a chat_member update, which drops the cache.
    api.set_admin(group["id"], max_)
    await agora.settle(api.push_update({"chat_member": {
        "chat": group, "from": ada, "date": 1_700_000_000,
        "old_chat_member": api.member_payload(max_, "member"),
        "new_chat_member": api.member_payload(max_, "administrator"),
    }}))
    [english] = await agora.command(group, max_, "/langue en")
    assert english["text"].startswith("From now on I speak English")
    assert len(api.calls_of("getChatAdministrators")) == 2


async def test_a_file_is_not_kept_once_sent(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(1001, "Alice", language_code="fr")
    [document] = await agora.command(api.private_chat(alice), alice, "/exporter")
    assert "document" in document
    async with AsyncSession(agora.engine) as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.method == "sendDocument")
        )
    assert row is not None
    assert (row.status, row.attachment) == ("sent", None)
