"""/groups [/camps]: two planted camps found with what sets them apart and what they share;
too few voters; all chats; a group under three people is never described; voters who answered
alike counted as one weighted set of answers, as the database groups them, describe exactly as
the voters one by one."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.core.i18n import using_language
from bot.core.library import load_library
from bot.core.settings import Settings
from bot.insights import clustering
from bot.insights import group_inputs as groups_handler
from bot.insights.answer_sets import Ballots
from bot.insights.groups_text import groups_blocks
from bot.insights.opinion_groups import describe
from storage.db import Database
from storage.insights import answer_patterns
from storage.models import Ballot, Chat, PostedPoll, option_bits
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, start_agora

NBSP = "\u00a0"
OPTIONS = [5, 5, 9, 5, 4, 8]  # the first article's questions

# Camp A: a worrying crisis (Q1 option 0), unjustified (Q2 option 2), Microsoft wins with
# Altman (Q4 option 0). Camp B: a power struggle (Q1 option 2), justified (Q2 option 0),
# Microsoft not the big winner (Q4 option 2). Both: the board will resign (Q5 option 0).
CAMP_A = {0: 0, 1: 2, 3: 0, 4: 0}
CAMP_B = {0: 2, 1: 0, 3: 2, 4: 0}


async def vote_camps(
    agora: Agora, api: FakeBotAPI, polls: list[str], camps: list[tuple[dict[int, int], int]],
    first_user: int,
) -> None:
    last, user = 0, first_user
    for answers, count in camps:
        for _ in range(count):
            for question, option in answers.items():
                last = api.vote(polls[question], api.user(user, f"V{user}"), [option])
            user += 1
    await agora.settle(last)


async def group_with_polls(agora: Agora, api: FakeBotAPI, chat_id: int):
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    polls = [m["poll"]["id"] for m in await agora.command(group, admin, "/sondage") if "poll" in m]
    return group, admin, polls


async def test_two_planted_camps_are_found_with_what_sets_them_apart(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100831)
    # 12 in camp A, 10 in camp B, and two who answered a single question (not counted).
    await vote_camps(agora, api, polls, [(CAMP_A, 12), (CAMP_B, 10), ({2: 1}, 2)], 3000)
    # "/camps", its first French name, still works.
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/camps"))
    assert text.startswith(
        "🧭 Groupes d’opinion — Crise à la tête d’OpenAI"
    )
    assert (
        "D’après 22 votants ayant répondu à au moins la moitié des questions, dans ce groupe."
    ) in text
    assert (
        f"Groupe 1 · 12 personnes (54,5{NBSP}%)\n"
        f"• «{NBSP}Une crise de gouvernance inquiétante{NBSP}» (question 1){NBSP}: 100,0{NBSP}% "
        f"d’entre eux, contre 0,0{NBSP}% des autres\n"
        f"• «{NBSP}Injustifié{NBSP}» (question 2){NBSP}: 100,0{NBSP}% d’entre eux, contre "
        f"0,0{NBSP}% des autres\n"
    ) in text
    assert f"Groupe 2 · 10 personnes (45,5{NBSP}%)\n• «{NBSP}Avant tout une lutte" in text
    assert (
        f"Terrain d’entente (une majorité de chaque groupe){NBSP}:\n"
        f"• «{NBSP}Oui, il démissionnera et cédera{NBSP}» (question 5){NBSP}: de 100,0{NBSP}% à "
        f"100,0{NBSP}%"
    ) in text
    assert f"Ce qui divise le plus{NBSP}: la question 1\nQuel est votre avis" in text
    assert (
        f"«{NBSP}Une crise de gouvernance inquiétante{NBSP}»{NBSP}: 100,0{NBSP}% dans le groupe 1, "
        f"0,0{NBSP}% dans le groupe 2."
    ) in text
    assert "se recoupent" not in text  # two clean camps
    assert "V30" not in text  # nobody is named

    await agora.command(group, admin, "/lang en")
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/groups"))
    assert "Based on 22 voters who answered at least half of the questions, in this group." in text
    assert (
        "Group 2 · 10 people (45.5%)\n• “Above all a power struggle” (question 1): 100.0% of "
        "them, against 0.0% of the others"
    ) in text
    assert "Common ground (a majority of every group):\n• “Yes, it will resign" in text


async def test_groups_are_computed_after_the_commit_without_holding_up_anyone(
    agora: Agora, api: FakeBotAPI
) -> None:
    """While a /camps answer is being computed (its clustering held back here by taking the
    lock it runs under), the command is already committed and acknowledged, and another
    chat's command and votes go through; the answer follows once the clustering is done."""
    group, admin, polls = await group_with_polls(agora, api, -100834)
    await vote_camps(agora, api, polls, [(CAMP_A, 12), (CAMP_B, 10)], 3000)
    alice = api.user(77, "Alice")
    with groups_handler.CLUSTERING:
        asked = api.send_text(group, admin, "/camps")
        await agora.handled(asked)  # committed with its answer still to come
        await agora.handled(api.vote(polls[0], api.user(4000, "Late"), [1]))
        help_id = api.send_text(api.private_chat(alice), alice, "/aide")
        await agora.handled(help_id)
        await agora.sender.wait_idle()
        meanwhile = agora.new_messages()
        assert [m["chat"]["id"] for m in meanwhile] == [alice["id"]]
        assert await agora.ballots(polls[0]) == {
            **{3000 + i: [0] for i in range(12)}, **{3012 + i: [2] for i in range(10)},
            4000: [1],
        }
    await agora.sent_out()
    [answer] = agora.new_messages()
    assert answer["chat"]["id"] == group["id"]
    assert answer["text"].startswith("🧭 Groupes d’opinion")
    assert "D’après 22 votants" in answer["text"]  # the late voter answered one question


async def test_a_stop_waits_for_an_answer_being_computed(
    api: FakeBotAPI, settings: Settings
) -> None:
    """Stopped (SIGTERM's path) while a /camps answer is being computed, the bot queues the
    answer before it exits; it goes out then, or after the restart."""
    bot = start_agora(api, settings)
    agora = await bot.__aenter__()
    try:
        group, admin, polls = await group_with_polls(agora, api, -100836)
        await vote_camps(agora, api, polls, [(CAMP_A, 12), (CAMP_B, 10)], 3000)
        with groups_handler.CLUSTERING:
            await agora.handled(api.send_text(group, admin, "/camps"))
            stopping = asyncio.create_task(bot.__aexit__(None, None, None))
            await asyncio.sleep(0.3)
            assert not stopping.done()  # the stop waits for the answer
    except BaseException:
        await bot.__aexit__(None, None, None)
        raise
    await stopping
    async with start_agora(api, settings) as agora:
        await agora.sent_out()
    sent = api.sent(chat_id=group["id"])
    [answer] = [m for m in sent if "Groupes d’opinion" in m.get("text", "")]
    assert "D’après 22 votants" in answer["text"]


async def test_too_few_voters_here_but_enough_in_all_chats(agora: Agora, api: FakeBotAPI) -> None:
    first, admin, first_polls = await group_with_polls(agora, api, -100832)
    _, _, second_polls = await group_with_polls(agora, api, -100833)
    await vote_camps(agora, api, first_polls, [(CAMP_A, 6), (CAMP_B, 5)], 4000)
    await vote_camps(agora, api, second_polls, [(CAMP_A, 6), (CAMP_B, 5)], 5000)
    [few] = await agora.command(first, admin, "/groupes")
    assert few["text"] == (
        "Les groupes d’opinion demandent au moins 20 votants ayant répondu à au moins la moitié "
        f"des questions (11 pour l’instant, dans ce groupe){NBSP}: il en manque 9. Pour toutes les "
        f"conversations réunies{NBSP}: /groupes tous."
    )
    text = "\n".join(m["text"] for m in await agora.command(first, admin, "/groupes tous"))
    assert "22 votants ayant répondu à au moins la moitié des questions, dans toutes" in text
    assert f"Groupe 1 · 12 personnes (54,5{NBSP}%)" in text
    [bad] = await agora.command(first, admin, "/groupes demain")
    assert bad["text"] == (
        "Utilisez /groupes pour cette conversation, ou /groupes tous pour toutes les conversations "
        "réunies."
    )


async def test_a_group_of_fewer_than_three_is_not_described(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100834)
    # Twenty people answer alike; two answer everything differently.
    await vote_camps(agora, api, polls, [(CAMP_A, 20), ({0: 3, 1: 4, 3: 4, 4: 3}, 2)], 6000)
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/camps"))
    assert (
        f"Groupe 2 · moins de 3 personnes{NBSP}: non décrit, pour qu’on ne puisse déduire les "
        "réponses de personne."
    ) in text
    # Nor by difference: the large group is not compared with the two.
    assert "des autres" not in text
    assert "Rien ne distingue nettement ce groupe." in text
    for option in ("Une affaire surmédiatisée", "Sans opinion", "Trop tôt pour le dire"):
        assert option not in text


def test_groups_are_the_same_for_the_same_votes() -> None:
    voters = [dict((q, [o]) for q, o in CAMP_A.items())] * 15 + [
        dict((q, [o]) for q, o in CAMP_B.items())
    ] * 9 + [{0: [1], 1: [1], 2: [0, 3], 3: [1]}] * 4
    first = describe(Ballots.collect(OPTIONS, voters))
    second = describe(Ballots.collect(OPTIONS, voters))
    assert first is not None
    assert first == second
    assert [g.size for g in first.groups] == [15, 9, 4]


Voter = dict[int, list[int]]


def planted_voters(options: list[int], count: int, seed: int) -> list[Voter]:
    """Three camps with noise: some answers several options, some questions unanswered, a few
    voters with too few answers to count, a few options a question does not have."""
    rng = random.Random(seed)
    camps = [[rng.randrange(n) for n in options] for _ in range(3)]
    voters = []
    for _ in range(count):
        camp = camps[rng.choice([0, 0, 0, 1, 1, 2])]
        answers = {}
        for question, n in enumerate(options):
            if rng.random() < 0.2:
                continue  # unanswered
            picked = camp[question] if rng.random() < 0.7 else rng.randrange(n)
            also = rng.randrange(n) if rng.random() < 0.2 else picked
            answers[question] = sorted({picked, also})
            if rng.random() < 0.02:
                answers[question].append(n)  # an option the question no longer has
        voters.append(answers)
    return voters


def sets_of_answers(options: list[int], voters: list[Voter]) -> list[tuple[int, int]]:
    """Each distinct set of answers as storage.insights.answer_patterns gives it, with its
    number of voters."""
    offsets = [sum(options[:q]) for q in range(len(options))]
    counts = Counter(
        sum(1 << offsets[q] + o for q, picked in answers.items() for o in picked if o < options[q])
        for answers in voters
    )
    return [(pattern, count) for pattern, count in counts.items() if pattern]


def test_voters_who_answered_alike_weigh_as_many_voters() -> None:
    options = [5, 5, 9, 5, 4, 8]
    # More voters than the silhouette's sample (1,500), and few of them (under the sample).
    for count in (2400, 300):
        voters = planted_voters(options, count, seed=count)
        one_by_one = describe(Ballots.collect(options, voters))
        patterns = sets_of_answers(options, voters)
        assert len(patterns) < count
        assert describe(Ballots.of_patterns(options, patterns)) == one_by_one
        assert describe(Ballots.of_patterns(options, patterns[::-1])) == one_by_one
        assert one_by_one is not None
        assert len(one_by_one.groups) >= 2


AT = datetime(2026, 11, 26, 12, tzinfo=UTC)


def poll_row(poll: str, chat: int, article: str, key: str) -> dict[str, object]:
    return {
        "poll_id": poll, "chat_id": chat, "message_id": 1, "article_id": article,
        "question_key": key, "language": "fr", "anonymous": False, "multiple": True,
        "option_ids": [str(o) for o in range(12)], "voter_count": 0, "posted_at": AT,
    }


async def test_the_database_groups_voters_by_their_latest_answers(database_url: str) -> None:
    # Eight questions of twelve options: 96 bits, more than one column of the database holds.
    options = [12] * 8
    questions = [(f"q{q}", n) for q, n in enumerate(options)]
    polls = [poll_row(f"{chat}:{q}", chat, "a", f"q{q}") for chat in (-1, -2) for q in range(8)]
    # q3 asked twice in chat -1; a poll of another article, one of a question now gone.
    polls += [poll_row("-1:3b", -1, "a", "q3"), poll_row("-1:b", -1, "b", "q0")]
    polls.append(poll_row("-1:gone", -1, "a", "gone"))
    rng = random.Random(6)
    ballots: list[tuple[str, int, datetime, list[int]]] = []
    latest: dict[int | None, dict[tuple[int, int], tuple[datetime, list[int]]]] = {
        -1: {}, -2: {}, None: {}
    }

    def answer(poll: str, chat: int, q: int, user: int, at: datetime, chosen: list[int]) -> None:
        """Stores the ballot, and keeps the latest valid answer of each voter to q."""
        ballots.append((poll, user, at, chosen))
        valid = [o for o in chosen if o < options[q]]
        if not valid:
            return  # no answer: it replaces none
        for scope in (chat, None):
            if (user, q) not in latest[scope] or latest[scope][user, q] < (at, valid):
                latest[scope][user, q] = (at, valid)

    for user, answers in enumerate(planted_voters(options, 400, seed=5)):
        at = AT + timedelta(minutes=user)
        for q, picked in answers.items():
            answer(f"-1:{q}", -1, q, user, at, picked)
            # Some answered in chat -2 too, earlier or later (a few with options the question
            # no longer has, which replace no answer); some answered q3 again.
            if rng.random() < 0.3:
                other = sorted({rng.randrange(12), rng.randrange(12)})
                other = [12] if rng.random() < 0.2 else other
                when = at + timedelta(minutes=rng.choice([-30, 30]))
                answer(f"-2:{q}", -2, q, user, when, other)
            if q == 3 and rng.random() < 0.3:
                answer("-1:3b", -1, q, user, at + timedelta(seconds=10), [rng.randrange(12)])
        ballots += [("-1:b", user, at, [0]), ("-1:gone", user, at, [0])]

    database = Database(database_url)
    await database.migrate()
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(Chat),
            [
                {"id": chat, "type": "group", "active": True, "digest_enabled": False}
                for chat in (-1, -2)
            ],
        )
        await connection.execute(insert(PostedPoll), polls)
        await connection.execute(
            insert(Ballot),
            [
                {
                    "poll_id": poll, "user_id": user, "options": chosen,
                    "option_bits": option_bits(chosen), "answered_at": at,
                }
                for poll, user, at, chosen in ballots
            ],
        )
    for chat in (-1, -2, None):  # -2 asked each question once
        voters: dict[int, Voter] = {}
        for (user, question), (_, chosen) in latest[chat].items():
            voters.setdefault(user, {})[question] = chosen
        async with database.read() as session:
            found = await answer_patterns(session, "a", chat, questions)
        assert sorted(found) == sorted(sets_of_answers(options, list(voters.values())))
        assert describe(Ballots.of_patterns(options, found)) == describe(
            Ballots.collect(options, list(voters.values()))
        )
    await database.dispose()


# Thirty voters against twenty on six questions; inside each camp a few differ on one
# question: four of camp A on question 3, three of camp B on question 6.
SPLIT_A = {q: 0 for q in range(6)}
SPLIT_B = {q: 1 for q in range(6)}
PLANTED_SPLIT = [
    (SPLIT_A, 26), ({**SPLIT_A, 2: 4}, 4), (SPLIT_B, 17), ({**SPLIT_B, 5: 3}, 3),
]


def test_two_camps_with_a_few_differing_on_one_question_are_two_groups() -> None:
    voters = [
        {q: [o] for q, o in answers.items()} for answers, count in PLANTED_SPLIT
        for _ in range(count)
    ]
    found = describe(Ballots.collect(OPTIONS, voters))
    assert found is not None
    assert [g.size for g in found.groups] == [30, 20]
    # Groups that differ on two questions are kept apart.
    two = [({**SPLIT_A, 2: 4, 3: 2}, 8), (SPLIT_A, 22), (SPLIT_B, 20)]
    voters = [{q: [o] for q, o in a.items()} for a, count in two for _ in range(count)]
    found = describe(Ballots.collect(OPTIONS, voters))
    assert found is not None
    assert [g.size for g in found.groups] == [22, 20, 8]


async def test_the_planted_split_is_two_groups_in_the_chat(agora: Agora, api: FakeBotAPI) -> None:
    group, admin, polls = await group_with_polls(agora, api, -100837)
    await vote_camps(agora, api, polls, PLANTED_SPLIT, 7000)
    await agora.command(group, admin, "/lang en")
    text = "\n".join(m["text"] for m in await agora.command(group, admin, "/groups"))
    assert "Group 1 · 30 people (60.0%)" in text
    assert "Group 2 · 20 people (40.0%)" in text
    assert "Group 3" not in text


def test_one_camp_with_a_few_differing_on_one_question_is_one_group() -> None:
    article = load_library().latest
    assert article is not None
    voters = [{q: [0] for q in range(6)}] * 20 + [{**{q: [0] for q in range(6)}, 2: [4]}] * 6
    found = describe(Ballots.collect(OPTIONS, voters))
    assert found is not None
    assert [g.size for g in found.groups] == [26]
    with using_language("en"):
        blocks = groups_blocks(article, found, "in this group")
    assert blocks[1] == (
        "The voters do not split into distinct groups: where some answer differently, it is on "
        "one question at most."
    )


def test_past_the_fitting_sample_the_groups_are_those_of_all_voters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past FIT_SAMPLE voters the centres are found on a random sample of them: the planted
    split, 600 times larger, is still exactly two camps, and noisy camps come out as the
    k-means on everybody finds them, within one percent of the voters."""
    voters = [
        {q: [o] for q, o in answers.items()} for answers, count in PLANTED_SPLIT
        for _ in range(count * 600)
    ]
    found = describe(Ballots.collect(OPTIONS, voters))
    assert found is not None
    assert [g.size for g in found.groups] == [18_000, 12_000]

    options = [5, 5, 9, 5, 4, 8]
    patterns = sets_of_answers(options, planted_voters(options, 40_000, seed=8))
    sampled = describe(Ballots.of_patterns(options, patterns))
    monkeypatch.setattr(clustering, "FIT_SAMPLE", 10**9)
    everybody = describe(Ballots.of_patterns(options, patterns))
    assert sampled is not None
    assert everybody is not None
    assert len(sampled.groups) == len(everybody.groups) >= 2
    for mine, theirs in zip(sampled.groups, everybody.groups, strict=True):
        assert abs(mine.size - theirs.size) <= 400
