"""Posting the polls, storing answers, and the results, end to end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.db import create_engine, migrate
from storage.models import Chat, OptionTotal, PostedPoll, QuestionTotal
from storage.polls import record_poll_counts, record_posted_poll
from storage.updates import forget_handled, mark_handled
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, totals_match_tallies

pytestmark = pytest.mark.floors

NBSP = "\u00a0"


async def post(
    agora: Agora,
    api: FakeBotAPI,
    chat: dict,
    user: dict | None,
    text: str = "/sondage",
    **kwargs: Any,
) -> list[dict]:
    sent = await agora.command(chat, user, text, **kwargs)
    return [m for m in sent if "poll" in m]


async def test_admin_posts_six_bilingual_polls(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100100, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    sent = await agora.command(group, admin, "/sondage")
    polls = [m["poll"] for m in sent if "poll" in m]
    assert sent[0]["text"].startswith("🗳 Crise à la tête d’OpenAI")
    assert next(p["question"] for p in polls) == "Quel est votre avis sur le sujet\u202f?"
    assert len(polls) == 6
    assert all(not p["is_anonymous"] for p in polls)
    assert [p["allows_multiple_answers"] for p in polls] == [False, False, True, False, False, True]
    assert all(p["options"][-1]["text"] == "Sans opinion" for p in polls)
    stored = await agora.polls(group["id"])
    assert [s.question_key for s in stored] == [
        "opinion",
        "firing",
        "risks",
        "microsoft",
        "board_resign",
        "future_impact",
    ]
    assert stored[0].option_ids == [o["persistent_id"] for o in polls[0]["options"]]

    # Posting them again would split the answers: the bot points to the first poll instead.
    [pointer] = await agora.command(group, admin, "/sondage")
    assert pointer["text"] == (
        "Les sondages de cet article sont déjà publiés dans cette conversation (voici le "
        "premier). Résultats\u00a0: /resultats"
    )
    assert pointer["reply_to_message"]["message_id"] == sent[1]["message_id"]
    assert len(await agora.polls(group["id"])) == 6
    # A member asking for them is shown the way to them too, not told off.
    [shown] = await agora.command(group, api.user(11, "Max"), "/sondage")
    assert shown["text"] == pointer["text"]
    assert shown["reply_to_message"]["message_id"] == sent[1]["message_id"]
    assert sent[0]["text"].endswith(
        "Répondez à un sondage pour donner votre avis · Résultats\u00a0: /resultats"
    )

    english_group = api.group(-100108, "Debate")
    api.set_admin(english_group["id"], admin)
    await agora.command(english_group, admin, "/lang en")
    english = await post(agora, api, english_group, admin, "/poll")
    assert english[0]["poll"]["question"] == "What is your view on the matter?"
    assert english[0]["poll"]["options"][-1]["text"] == "No opinion"


async def test_members_are_refused_politely(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100101, "Débat")
    member = api.user(11, "Max")
    [refusal] = await agora.command(group, member, "/sondage")
    assert (
        refusal["text"]
        == "Seuls les administrateurs du groupe peuvent publier les sondages\u00a0: "
        "demandez-le à l’un d’eux."
    )
    assert await agora.polls(group["id"]) == []


async def test_anonymous_admin_and_private_chat_may_post(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100102, "Débat")
    assert len(await post(agora, api, group, None, sender_chat=group)) == 6
    alice = api.user(12, "Alice", language_code="en")
    assert len(await post(agora, api, api.private_chat(alice), alice, "/poll")) == 6


async def test_unknown_poll_option_is_explained(agora: Agora, api: FakeBotAPI) -> None:
    alice = api.user(12, "Alice", language_code="en")
    [answer] = await agora.command(api.private_chat(alice), alice, "/poll public")
    assert answer["text"] == "Unknown option “public”. Use /poll, /poll anonymous or /poll hidden."
    [answer] = await agora.command(api.private_chat(alice), alice, "/poll " + "🗳" * 2000)
    cut = "🗳" * 31 + "…"  # what was typed is quoted back cut, not 4,000 UTF-16 units long
    assert answer["text"] == f"Unknown option “{cut}”. Use /poll, /poll anonymous or /poll hidden."


async def test_votes_change_retract_and_count_once(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100103, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    polls = await post(agora, api, group, admin)
    opinion, risks = polls[0]["poll"]["id"], polls[2]["poll"]["id"]
    voters = [api.user(100 + i, f"V{i}") for i in range(4)]

    await agora.vote(opinion, voters[0], [0])
    await agora.vote(opinion, voters[1], [0])
    await agora.vote(opinion, voters[2], [1])
    await agora.vote(opinion, voters[0], [2])  # a change replaces the previous answer
    await agora.vote(opinion, voters[2], [])  # a retraction removes it
    assert await agora.tallies(opinion) == {0: 1, 1: 0, 2: 1, 3: 0, 4: 0}
    assert await agora.ballots(opinion) == {100: [2], 101: [0]}
    await totals_match_tallies(agora.engine)

    await agora.vote(risks, voters[3], [0, 2, 5])
    await agora.vote(risks, voters[3], [2, 6])
    assert await agora.tallies(risks) == {0: 0, 1: 0, 2: 1, 3: 0, 4: 0, 5: 0, 6: 1, 7: 0, 8: 0}
    [stored] = [p for p in await agora.polls(group["id"]) if p.poll_id == risks]
    assert stored.voter_count == 1


async def test_answers_are_matched_by_persistent_id(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100104, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    poll = (await post(agora, api, group, admin))[0]["poll"]
    options = poll["options"]
    # Telegram may renumber options (added or deleted ones); the persistent id is what counts.
    update_id = api.push_update(
        {
            "poll_answer": {
                "poll_id": poll["id"],
                "user": api.user(200, "Zoé"),
                "option_ids": [0],
                "option_persistent_ids": [options[3]["persistent_id"]],
            }
        }
    )
    await agora.settle(update_id)
    assert await agora.tallies(poll["id"]) == {0: 0, 1: 0, 2: 0, 3: 1, 4: 0}


async def test_answer_on_unknown_poll_is_ignored(agora: Agora, api: FakeBotAPI) -> None:
    update_id = api.push_update(
        {
            "poll_answer": {
                "poll_id": "999",
                "user": api.user(200, "Zoé"),
                "option_ids": [0],
                "option_persistent_ids": ["abc"],
            }
        }
    )
    await agora.settle(update_id)
    alice = api.user(12, "Alice", language_code="fr")
    [results] = await agora.command(api.private_chat(alice), alice, "/resultats")
    assert "Pas encore de réponse" in results["text"]


async def test_results_here_and_everywhere_with_locale_formats(
    agora: Agora, api: FakeBotAPI
) -> None:
    fr_group, en_group = api.group(-100105, "Débat"), api.group(-100106, "Debate")
    admin = api.user(10, "Ada")
    api.set_admin(fr_group["id"], admin)
    api.set_admin(en_group["id"], admin)
    await agora.command(en_group, admin, "/lang en")
    fr_poll = (await post(agora, api, fr_group, admin))[0]["poll"]["id"]
    en_poll = (await post(agora, api, en_group, admin, "/poll"))[0]["poll"]["id"]
    # 29 voters in the French group: 11 for option 0 (37.9 %), 18 for option 1.
    for i in range(29):
        await agora.settle(api.vote(fr_poll, api.user(1000 + i, f"U{i}"), [0 if i < 11 else 1]))
    for i in range(3):
        await agora.settle(api.vote(en_poll, api.user(2000 + i, f"E{i}"), [0]))

    fr_results = "\n".join(m["text"] for m in await agora.command(fr_group, admin, "/resultats"))
    assert f"Ce groupe{NBSP}: 29 votants · Total{NBSP}: 32 votants" in fr_results
    # All chats have one name, the voters line's: "Total", "total".
    assert f"████░░░░░░ 37,9{NBSP}% (11) · total{NBSP}: 43,8{NBSP}% (14)" in fr_results
    assert f"██████░░░░ 62,1{NBSP}% (18) · total{NBSP}: 56,2{NBSP}% (18)" in fr_results
    assert f"Ce groupe{NBSP}: 0 votant" in fr_results

    en_results = "\n".join(m["text"] for m in await agora.command(en_group, admin, "/results"))
    assert "This group: 3 voters · Overall: 32 voters" in en_results
    assert "██████████ 100.0% (3) · overall: 43.8% (14)" in en_results
    assert "Only 3 voters: too few to read much into." in en_results
    assert (
        "Overall, “A legitimate debate on AI safety” (56.2%) and “A worrying governance crisis” "
        "(43.8%) are neck and neck; the gap between them is within the margin of error."
    ) in en_results
    assert "A worrying governance crisis" in en_results


async def test_anonymous_polls_follow_the_totals(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100107, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    polls = await post(agora, api, group, admin, "/sondage anonyme")
    assert all(m["poll"]["is_anonymous"] for m in polls)
    poll = polls[0]["poll"]["id"]
    await agora.settle(api.vote(poll, api.user(300, "A"), [1]))
    await agora.settle(api.vote(poll, api.user(301, "B"), [1]))
    await agora.settle(api.vote(poll, api.user(302, "C"), [4]))
    assert await agora.tallies(poll) == {0: 0, 1: 2, 2: 0, 3: 0, 4: 1}
    assert await agora.ballots(poll) == {}  # nobody's answer is known, only the totals
    await totals_match_tallies(agora.engine)
    results = "\n".join(m["text"] for m in await agora.command(group, admin, "/resultats"))
    assert f"66,7{NBSP}% (2)" in results
    assert "3 votants" in results


async def test_concurrent_states_of_an_anonymous_poll_take_turns(database_url: str) -> None:
    """Two transactions apply states of one anonymous poll at the same time (two webhook
    requests, in one process or two): the second waits for the first, then moves the
    totals from what the first stored; a state older than the one applied changes nothing."""
    engine = create_engine(database_url)
    await migrate(engine)
    options = ["x", "y", "z"]
    async with AsyncSession(engine) as session, session.begin():
        session.add(Chat(id=-100190, type="supergroup"))
        await session.flush()
        await record_posted_poll(
            session, poll_id="p", chat_id=-100190, message_id=1, article_id="a",
            question_key="q", language="fr", anonymous=True, multiple=False,
            option_ids=options, posted_at=datetime.now(UTC),
        )

    async def apply(session: AsyncSession, update_id: int, counts: list[int]) -> None:
        """As the dispatcher does: the state, and its update recorded as handled."""
        await record_poll_counts(
            session, poll_id="p", counts=dict(zip(options, counts, strict=True)),
            total_voters=sum(counts), update_id=update_id,
        )
        await mark_handled(session, [update_id])

    async with AsyncSession(engine) as first, AsyncSession(engine) as second:
        await apply(first, 10, [2, 1, 0])  # its transaction stays open
        later = asyncio.create_task(apply(second, 11, [2, 2, 1]))
        await asyncio.sleep(0.5)
        assert not later.done()  # it waits for the first to end
        await first.commit()
        await later
        await second.commit()
    async with AsyncSession(engine) as session, session.begin():
        await apply(session, 9, [1, 0, 0])  # delivered late: older than the state applied

    assert await counts(engine) == (5, {0: 2, 1: 2, 2: 1})

    # A week without updates, the handled ones forgotten: Telegram starts again from a random
    # point, maybe lower; the old mark does not hold the poll back.
    async with AsyncSession(engine) as session, session.begin():
        await forget_handled(session, datetime.now(UTC) + timedelta(days=1))
        await apply(session, 3, [2, 2, 2])
    assert await counts(engine) == (6, {0: 2, 1: 2, 2: 2})

    # One batch, in the order the webhook requests arrived (not Telegram's): its updates are
    # marked handled together at its end; the older state, applied after, changes nothing.
    async with AsyncSession(engine) as session, session.begin():
        for update_id, state in ((21, [3, 3, 2]), (20, [3, 2, 2])):
            await record_poll_counts(
                session, poll_id="p", counts=dict(zip(options, state, strict=True)),
                total_voters=sum(state), update_id=update_id,
            )
        await mark_handled(session, [21, 20])
    assert await counts(engine) == (8, {0: 3, 1: 3, 2: 2})
    await totals_match_tallies(engine)
    await engine.dispose()


async def counts(engine: AsyncEngine) -> tuple[int, dict[int, int]]:
    """The voters of the only poll, checked against the all-chats total, and its votes."""
    async with AsyncSession(engine) as session:
        poll = await session.get(PostedPoll, "p")
        assert poll is not None
        assert await session.scalar(select(QuestionTotal.voters)) == poll.voter_count
        totals = dict((await session.execute(
            select(OptionTotal.option_index, OptionTotal.votes)
        )).all())
    await totals_match_tallies(engine)
    return poll.voter_count, totals


def _answer_as_handled(raw: dict[str, Any]) -> Any:
    """The Answer handlers.polls.store_answer queues for this update, parsed as usual."""
    from telegram import Update

    from bot.engine.transaction import UnitOfWork, _unit
    from handlers.polls import store_answer

    unit = UnitOfWork(session=None)  # type: ignore[arg-type]  # store_answer never reads
    token = _unit.set(unit)
    try:
        asyncio.run(store_answer(Update.de_json(raw, None), None))  # type: ignore[arg-type]
    finally:
        _unit.reset(token)
    queued = unit.answers._answers
    return queued[0] if queued else None


def test_a_plain_answer_read_from_its_json_is_the_one_its_handler_queues() -> None:
    """The vote storm's short way (handlers.polls.answer_from_json, no python-telegram-bot)
    gives the Answer the handler would; anything unusual is left to the ordinary way."""
    from dataclasses import replace

    from handlers.polls import answer_from_json

    def raw(answer: dict[str, Any], **more: Any) -> dict[str, Any]:
        return {"update_id": 7, "poll_answer": answer, **more}

    user = {"id": 5, "is_bot": False, "first_name": "Zoé", "language_code": "fr"}
    answers: list[dict[str, Any]] = [
        {"poll_id": "p", "user": user, "option_ids": [1], "option_persistent_ids": ["b"]},
        {"poll_id": "p", "user": {**user, "last_name": "Lamy"}, "option_ids": [0, 2],
         "option_persistent_ids": ["a", "c"]},
        {"poll_id": "p", "user": {**user, "last_name": ""}, "option_ids": [],
         "option_persistent_ids": []},  # a retraction
        {"poll_id": "p", "user": {**user, "first_name": "Z" * 300}, "option_ids": [1],
         "option_persistent_ids": ["b"]},
    ]
    for answer in answers:
        fast = answer_from_json(raw(answer))
        assert fast is not None
        handled = _answer_as_handled(raw(answer))
        assert replace(fast, answered_at=handled.answered_at) == handled
    unusual = [
        raw({"poll_id": "p", "voter_chat": {"id": -1, "type": "supergroup", "title": "G"},
             "option_ids": [1], "option_persistent_ids": ["b"]}),
        raw({"poll_id": "p", "user": user, "option_ids": [1]}),  # no persistent ids
        raw({"poll_id": "p", "user": {"id": 5, "first_name": "Zoé"}, "option_ids": [1],
             "option_persistent_ids": ["b"]}),  # no is_bot
        raw({"poll_id": "p", "user": user, "option_ids": ["1"], "option_persistent_ids": []}),
        raw({"poll_id": 3, "user": user, "option_ids": [1], "option_persistent_ids": ["b"]}),
        raw({"poll_id": "p", "user": user, "option_ids": [1], "option_persistent_ids": ["b"]},
            poll={"id": "p"}),
        {"update_id": 7, "poll": {"id": "p"}},
    ]
    assert [answer_from_json(u) for u in unusual] == [None] * len(unusual)
