"""Closing the polls: /close now and its final results, a close scheduled ahead, its
reminder, and the edge cases (a poll deleted by hand, a supergroup, anonymous polls)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.core.settings import Settings
from storage.models import Ballot, Base, PollClose, PostedPoll
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, start_agora, totals_match_tallies
from tests.support.processes import bot_process, kill, stop
from tests.test_reliability import sent_count

NBSP = "\u00a0"


def late_answer(api: FakeBotAPI, poll: dict[str, Any], user: dict[str, Any], option: int) -> int:
    """An answer Telegram took just before the poll closed, delivered after the close."""
    return api.push_update(
        {
            "poll_answer": {
                "poll_id": poll["id"],
                "user": user,
                "option_ids": [option],
                "option_persistent_ids": [poll["options"][option]["persistent_id"]],
            }
        }
    )


async def group_with_votes(
    agora: Agora, api: FakeBotAPI, chat_id: int, *, text: str = "/sondage"
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A group whose admin posted the polls, with three votes on the first one."""
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    sent = await agora.command(group, admin, text)
    polls = [m["poll"] for m in sent if "poll" in m]
    for n, option in enumerate([0, 0, 1]):
        await agora.vote(polls[0]["id"], api.user(500 + n, f"V{n}"), [option])
    return group, admin, polls


async def close_of(agora: Agora, chat_id: int, article: str) -> PollClose | None:
    async with AsyncSession(agora.engine) as session:
        return await session.get(PollClose, (chat_id, article))


async def test_close_stops_every_poll_and_posts_the_final_results(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_votes(agora, api, -100700)
    sent = await agora.command(group, admin, "/cloturer")
    stops = [int(call["message_id"]) for call in api.calls_of("stopPoll")]
    assert stops == [m["message_id"] for m in api.sent(group["id"], "sendPoll")]
    assert all(api.polls[p["id"]]["is_closed"] for p in polls)  # Telegram's side
    assert all(poll.closed_at is not None for poll in await agora.polls(group["id"]))
    [final, chart] = sent
    assert final["text"].startswith(
        "🏁 Résultats définitifs — Crise à la tête d’OpenAI"
    )
    assert (
        f"Sondages clos le jeudi 26 novembre 2026{NBSP}: ces chiffres sont définitifs."
        in final["text"]
    )
    assert f"Ce groupe{NBSP}: 3 votants" in final["text"]  # the question block of /results
    assert f"66,7{NBSP}% (2)" in final["text"]
    assert chart["caption"] == "Résultats définitifs du jeudi 26 novembre 2026"
    with pytest.raises(ValueError, match="closed"):
        api.vote(polls[0]["id"], api.user(600, "Late"), [2])  # Telegram refuses it
    # An answer taken before the stop but delivered after it changes nothing.
    await agora.settle(late_answer(api, polls[0], api.user(601, "Slow"), 2))
    assert await agora.tallies(polls[0]["id"]) == {0: 2, 1: 1, 2: 0, 3: 0, 4: 0}
    await totals_match_tallies(agora.engine)

    [again] = await agora.command(group, admin, "/cloturer")
    assert again["text"] == f"Les sondages sont déjà clos{NBSP}: voici les résultats définitifs."
    assert again["reply_to_message"]["message_id"] == final["message_id"]
    assert len(api.calls_of("stopPoll")) == 6  # no second stop
    [results] = await agora.command(group, api.user(11, "Max"), "/resultats")
    assert "ces chiffres sont définitifs" in results["text"]
    assert f"66,7{NBSP}% (2)" in results["text"]


async def test_close_refusals_and_answers(agora: Agora, api: FakeBotAPI) -> None:
    empty = api.group(-100701, "Vide")
    admin = api.user(10, "Ada")
    api.set_admin(empty["id"], admin)
    [none] = await agora.command(empty, admin, "/cloturer")
    assert none["text"] == (
        "Il n’y a pas encore de sondages à clôturer dans cette conversation. Publiez-les avec "
        "/sondage."
    )
    group, admin, polls = await group_with_votes(agora, api, -100702)
    member = api.user(11, "Max")
    [refused] = await agora.command(group, member, "/cloturer")
    assert refused["text"] == (
        f"Seuls les administrateurs du groupe peuvent clôturer les sondages{NBSP}: demandez-le "
        "à l’un d’eux."
    )
    [unclear] = await agora.command(group, member, "/cloturer <b>demain</b>")
    assert unclear["text"] == (  # escaped: shown as typed, not in bold
        f"Je n’ai pas compris «{NBSP}<b>demain</b>{NBSP}». Utilisez /cloturer pour clôturer "
        "maintenant, /cloturer 2h, /cloturer 3j, /cloturer 18:30 ou /cloturer annuler."
    )
    [soon] = await agora.command(group, admin, "/cloturer 5m")
    assert soon["text"] == "La clôture doit être prévue au moins 10 minutes à l’avance."
    [far] = await agora.command(group, admin, "/cloturer 9999j")
    assert far["text"].startswith("Je n’ai pas compris")
    [nothing] = await agora.command(group, admin, "/cloturer annuler")
    assert nothing["text"] == f"Aucune clôture n’était prévue{NBSP}: les sondages restent ouverts."
    assert api.calls_of("stopPoll") == []
    stored = await close_of(agora, group["id"], polls_article(agora))
    assert stored is not None
    assert stored.due_at is None
    assert stored.closed_at is None
    assert all(not api.polls[p["id"]]["is_closed"] for p in polls)

    english = api.group(-100703, "Debate")
    api.set_admin(english["id"], admin)
    await agora.command(english, admin, "/lang en")
    [no_polls] = await agora.command(english, admin, "/close")
    assert no_polls["text"] == (
        "There are no polls to close in this chat yet. Post them with /poll."
    )
    [soon_en] = await agora.command(english, admin, "/close 5m")
    assert soon_en["text"] == no_polls["text"]  # nothing to close comes first


def polls_article(agora: Agora) -> str:
    return agora.app.bot_data.services.library.newest.id


async def swept(agora: Agora) -> tuple[int, list[dict[str, Any]]]:
    """Sweep the stored schedule as the periodic job does; what was done, and sent."""
    done = await agora.digests.closes.sweep()
    await agora.sent_out()
    return done, agora.new_messages()


async def test_a_scheduled_close_happens_once_at_its_time(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, polls = await group_with_votes(agora, api, -100710)
    [scheduled] = await agora.command(group, admin, "/cloturer 2h")
    assert scheduled["text"] == (
        f"⏳ Les sondages seront clos le jeudi 26 novembre à 10:00\u202f; les résultats "
        f"définitifs suivront. Pour annuler{NBSP}: /cloturer annuler"
    )
    [results] = await agora.command(group, admin, "/resultats")
    assert "Les sondages seront clos le jeudi 26 novembre à 10:00." in results["text"]
    digest = await agora.command(group, admin, "/bilan maintenant")
    assert "Les sondages seront clos le jeudi 26 novembre à 10:00." in digest[0]["text"]
    clock.set("2026-11-26 09:59")
    assert await swept(agora) == (0, [])
    clock.set("2026-11-26 10:00")
    done, sent = await swept(agora)
    assert done == 1
    assert sent[0]["text"].startswith("🏁 Résultats définitifs")
    assert all(api.polls[p["id"]]["is_closed"] for p in polls)
    assert await swept(agora) == (0, [])  # exactly once
    [again] = await agora.command(group, admin, "/cloturer 3j")
    assert again["reply_to_message"]["message_id"] == sent[0]["message_id"]


async def test_the_reminder_goes_an_hour_before_a_distant_close(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, _polls = await group_with_votes(agora, api, -100711)
    [scheduled] = await agora.command(group, admin, "/cloturer 3j")
    assert "le dimanche 29 novembre à 08:00" in scheduled["text"]
    clock.set("2026-11-29 06:59")
    assert await swept(agora) == (0, [])
    clock.set("2026-11-29 07:00")
    done, [reminder] = await swept(agora)
    assert reminder["text"] == (
        f"⏰ Les sondages seront clos dans une heure, le dimanche 29 novembre à 08:00{NBSP}: "
        "3 votants jusqu’ici. Il est encore temps de répondre, en commençant par ce sondage."
    )
    first = api.sent(group["id"], "sendPoll")[0]
    assert reminder["reply_to_message"]["message_id"] == first["message_id"]
    assert await swept(agora) == (0, [])  # one reminder
    clock.set("2026-11-29 08:00")
    done, sent = await swept(agora)
    assert done == 1
    assert sent[0]["text"].startswith("🏁 Résultats définitifs")

    # A close two hours away or less has no reminder.
    near, admin, _ = await group_with_votes(agora, api, -100712)
    await agora.command(near, admin, "/cloturer 2h")
    clock.set("2026-11-29 09:30")
    done, sent = await swept(agora)
    assert (done, sent) == (0, [])


async def test_a_close_at_a_time_of_day_and_its_cancellation(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, polls = await group_with_votes(agora, api, -100713)
    await agora.command(group, admin, "/fuseau America/Montreal")  # 02:00 there
    [today] = await agora.command(group, admin, "/cloturer 18h30")
    assert "le jeudi 26 novembre à 18:30" in today["text"]
    [tomorrow] = await agora.command(group, admin, "/cloturer 1:55")  # passed: tomorrow
    assert "le vendredi 27 novembre à 01:55" in tomorrow["text"]
    [soon] = await agora.command(group, admin, "/cloturer 2:05")
    assert soon["text"] == "La clôture doit être prévue au moins 10 minutes à l’avance."
    [cancelled] = await agora.command(group, admin, "/cloturer annuler")
    assert cancelled["text"] == (
        f"La clôture prévue est annulée{NBSP}: les sondages restent ouverts."
    )
    [results] = await agora.command(group, admin, "/resultats")
    assert "seront clos" not in results["text"]
    clock.set("2026-11-28 12:00")
    assert await swept(agora) == (0, [])
    assert all(not api.polls[p["id"]]["is_closed"] for p in polls)


async def test_a_close_due_while_the_bot_was_down_happens_at_start(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    async with start_agora(api, settings, clock) as agora:
        group, admin, polls = await group_with_votes(agora, api, -100714)
        await agora.command(group, admin, "/cloturer 2h")
    clock.set("2026-11-26 15:00")  # back five hours later
    async with start_agora(api, settings, clock) as agora:

        async def closed() -> bool:
            stored = await close_of(agora, group["id"], polls_article(agora))
            return stored is not None and stored.results_message_id is not None

        await agora.until(closed)
        await agora.sent_out()
        assert all(api.polls[p["id"]]["is_closed"] for p in polls)
        finals = [m for m in api.sent(group["id"]) if m.get("text", "").startswith("🏁")]
        assert len(finals) == 1
        assert "Sondages clos le jeudi 26 novembre 2026" in finals[0]["text"]
        assert await agora.digests.closes.sweep() == 0


async def test_a_poll_deleted_by_hand_does_not_hold_up_the_close(
    agora: Agora, api: FakeBotAPI
) -> None:
    group, admin, polls = await group_with_votes(agora, api, -100720)
    posted = api.sent(group["id"], "sendPoll")
    api.delete_by_hand(group["id"], posted[1]["message_id"])
    [final, _chart] = await agora.command(group, admin, "/cloturer")
    assert final["text"].startswith("🏁 Résultats définitifs")
    assert len(api.calls_of("stopPoll")) == 6  # tried; Telegram refused the deleted one
    assert [p["id"] for p in polls if api.polls[p["id"]]["is_closed"]] == [
        p["id"] for i, p in enumerate(polls) if i != 1
    ]
    # No second set of polls for a closed discussion, unless an admin opens a new round.
    [closed] = await agora.command(group, api.user(11, "Max"), "/sondage")
    assert closed["text"] == (
        f"Les sondages de cet article sont clos dans cette conversation. Résultats définitifs"
        f"{NBSP}: /resultats"
    )


async def test_closing_while_the_polls_are_being_posted_posts_no_more(
    agora: Agora, api: FakeBotAPI
) -> None:
    group = api.group(-100721, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    # The group's first poll meets Telegram's flood limit: the polls wait two seconds.
    api.fail_next("sendPoll", 429, "Too Many Requests: retry after 2", retry_after=2)
    await agora.handled(api.send_text(group, admin, "/sondage"))  # handled, not all sent
    sent = await agora.command(group, admin, "/cloturer")
    assert api.sent(group["id"], "sendPoll") == []  # the rest are not posted
    sent = [m for m in sent if not m.get("text", "").startswith("🗳")]  # the polls' intro
    assert [m["text"] for m in sent] == [
        f"🏁 Résultats définitifs — Crise à la tête d’OpenAI{NBSP}: le limogeage de Sam Altman "
        "sème le chaos\n"
        f"Sondages clos le jeudi 26 novembre 2026{NBSP}: ces chiffres sont définitifs.\n\n"
        "Personne n’a répondu aux sondages dans ce groupe."
    ]
    await agora.sent_out()
    assert api.sent(group["id"], "sendPoll") == []


async def test_a_group_that_became_a_supergroup_closes_its_polls(
    agora: Agora, api: FakeBotAPI
) -> None:
    old = api.group(-900, "Débat", type="group")
    admin = api.user(10, "Ada")
    api.set_admin(old["id"], admin, status="creator")
    sent = await agora.command(old, admin, "/sondage")
    polls = [m["poll"] for m in sent if "poll" in m]
    await agora.vote(polls[0]["id"], api.user(500, "V"), [1])
    await agora.settle(api.migrate(-900, -100900))
    new = api.chats[-100900]
    final, _chart = await agora.command(new, admin, "/cloturer")
    assert f"Ce groupe{NBSP}: 1 votant" in final["text"]
    assert api.calls_of("stopPoll") == []  # the group's polls cannot be answered any more
    assert all(poll.closed_at is not None for poll in await agora.polls(-100900))
    [again] = await agora.command(new, admin, "/cloturer")
    assert again["reply_to_message"]["message_id"] == final["message_id"]


async def test_anonymous_polls_close_on_their_counts(agora: Agora, api: FakeBotAPI) -> None:
    group, admin, polls = await group_with_votes(agora, api, -100722, text="/sondage anonyme")
    assert await agora.tallies(polls[0]["id"]) == {0: 2, 1: 1, 2: 0, 3: 0, 4: 0}
    final, _chart = await agora.command(group, admin, "/cloturer")
    assert f"66,7{NBSP}% (2)" in final["text"]
    # The state Telegram sends of a closed poll, even one counting more, changes nothing.
    state = api.poll_payload(polls[0]["id"])
    state["options"][2]["voter_count"] = 5
    state["total_voter_count"] = 8
    await agora.settle(api.push_update({"poll": state}))
    assert await agora.tallies(polls[0]["id"]) == {0: 2, 1: 1, 2: 0, 3: 0, 4: 0}
    await totals_match_tallies(agora.engine)


async def test_final_results_in_english(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100723, "Debate")
    admin = api.user(10, "Ada", language_code="en")
    api.set_admin(group["id"], admin)
    await agora.command(group, admin, "/lang en")
    sent = await agora.command(group, admin, "/poll")
    poll = next(m["poll"] for m in sent if "poll" in m)
    await agora.vote(poll["id"], api.user(500, "V"), [0])
    [scheduled] = await agora.command(group, admin, "/close 3d")
    assert scheduled["text"] == (
        "⏳ The polls will close on Sunday, 29 November at 08:00; the final results "
        "will follow. To cancel: /close off"
    )
    final, chart = await agora.command(group, admin, "/close")
    assert final["text"].startswith(
        "🏁 Final results — Crisis at the top of OpenAI: Sam Altman's firing sparks chaos\n"
        "The polls closed on Thursday, 26 November 2026: these figures are final."
    )
    assert chart["caption"] == "Final results of Thursday, 26 November 2026"
    [again] = await agora.command(group, admin, "/close")
    assert again["text"] == "The polls are already closed: here are the final results."


@pytest.mark.slow
async def test_sigkill_between_two_stops_completes_the_close_once(
    api: FakeBotAPI, database_url: str
) -> None:
    group = api.group(-100730, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    engine = create_async_engine(database_url)
    processes = [await bot_process(api, database_url)]
    try:
        await api.wait_acked(api.send_text(group, admin, "/sondage"), timeout=60)
        await sent_count(api, "sendPoll", 6)
        poll = api.sent(group["id"], "sendPoll")[0]["poll"]
        api.vote(poll["id"], api.user(700, "V"), [1])
        await stored(engine, Ballot, 1)
        # The first stop goes through; the second meets the flood limit and waits 30 s.
        api.fail_next(
            "stopPoll", 429, "Too Many Requests: retry after 30", retry_after=30, after=1
        )
        api.send_text(group, admin, "/cloturer")
        async with asyncio.timeout(60):
            while len(api.calls_of("stopPoll")) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await kill(processes[0])  # between the first stop and the second
        assert sum(poll["is_closed"] for poll in api.polls.values()) == 1
        assert finals(api, group["id"]) == []

        processes.append(await bot_process(api, database_url))
        async with asyncio.timeout(60):
            while not api.sent(group["id"], "sendPhoto"):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await api.wait_acked(api.send_text(group, admin, "/aide"), timeout=60)
        await stop(processes[1])
    finally:
        for process in processes:
            if process.returncode is None:
                await kill(process)
    assert all(poll["is_closed"] for poll in api.polls.values())
    [final] = finals(api, group["id"])
    assert f"Ce groupe{NBSP}: 1 votant" in final["text"]
    assert len(api.sent(group["id"], "sendPhoto")) == 1
    async with AsyncSession(engine) as session:
        closed = list(await session.scalars(select(PostedPoll.closed_at)))
    await engine.dispose()
    assert len(closed) == 6
    assert all(at is not None for at in closed)


def finals(api: FakeBotAPI, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in api.sent(chat_id) if m.get("text", "").startswith("🏁")]


async def stored(engine: AsyncEngine, model: type[Base], count: int) -> None:
    """Wait (60 s at most) until the table of `model` has `count` rows."""
    async with asyncio.timeout(60):
        while await engine_count(engine, model) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def engine_count(engine: AsyncEngine, model: type[Base]) -> int:
    async with AsyncSession(engine) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_hidden_results_show_only_how_many_answered_until_the_close(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    open_group, admin, open_polls = await group_with_votes(agora, api, -100740)
    hidden_group, _, polls = await group_with_votes(
        agora, api, -100741, text="/sondage masque"
    )
    assert all(
        api.polls[p["id"]].get("hide_results_until_closes") for p in polls
    )  # Telegram hides them from the voters too
    assert not any(api.polls[p["id"]].get("hide_results_until_closes") for p in open_polls)
    await agora.vote(polls[0]["id"], api.user(503, "V3"), [2])
    await agora.command(hidden_group, admin, "/cloturer 3j")
    reveal = "Les résultats restent masqués jusqu’à la clôture des sondages, le dimanche 29 "
    reveal += "novembre à 08:00."
    shown = [
        (await agora.command(hidden_group, admin, text))[0]["text"]
        for text in ("/resultats", "/croiser 1 2", "/camps", "/camps tous")
    ]
    for text in shown:
        assert reveal in text
        assert "1. Quel est votre avis sur le sujet\u202f? — 4 votants" in text
        assert "%" not in text
    digest = await agora.command(hidden_group, admin, "/bilan maintenant")
    assert reveal in digest[0]["text"]
    assert all("photo" not in m for m in digest)
    # Another group's all-chats figures leave the hidden group's votes out until its close.
    [elsewhere] = await agora.command(open_group, admin, "/resultats")
    assert f"Total{NBSP}: 3 votants" in elsewhere["text"]
    clock.set("2026-11-29 08:00")
    await swept(agora)
    [after] = await agora.command(open_group, admin, "/resultats")
    assert f"Total{NBSP}: 7 votants" in after["text"]
    [revealed] = await agora.command(hidden_group, admin, "/resultats")
    assert f"Ce groupe{NBSP}: 4 votants" in revealed["text"]
    assert f"50,0{NBSP}% (2)" in revealed["text"]


async def test_the_daily_digest_gives_the_final_figures_once_then_stops(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, _polls = await group_with_votes(agora, api, -100730)
    await agora.command(group, admin, "/bilan 09:00")
    [status] = await agora.command(group, admin, "/bilan")
    assert "Prochain" in status["text"]
    await agora.command(group, admin, "/cloturer")
    clock.set("2026-11-26 09:00")
    [text, photo] = await agora.fire_digest(group["id"])
    assert text["text"].startswith("🗞 Bilan du jeudi 26 novembre 2026")
    assert (
        f"Sondages clos le jeudi 26 novembre 2026{NBSP}: ces chiffres sont définitifs."
        in text["text"]
    )
    assert f"Ce groupe{NBSP}: 3 votants" in text["text"]
    assert "photo" in photo

    # The next days: nothing new can be said of this article, so no digest goes.
    for day in ("2026-11-27 09:00", "2026-11-28 09:00"):
        clock.set(day)
        outcome = await agora.digests.deliver(group["id"], daily=True)
        assert outcome.value == "closed"
        await agora.sent_out()
        assert agora.new_messages() == []
    assert len(await agora.digests_of(group["id"])) == 1
    [status] = await agora.command(group, admin, "/bilan")
    assert (
        f"Aucun pour l’instant{NBSP}: les sondages de cet article sont clos et le dernier bilan "
        "en a donné les résultats définitifs. Les bilans reprendront avec le prochain article."
    ) in status["text"]
    assert "Prochain" not in status["text"]
    # Asked for, a digest still answers (with the final figures).
    [asked, _chart] = await agora.command(group, admin, "/bilan maintenant")
    assert "ces chiffres sont définitifs" in asked["text"]


async def test_a_close_after_the_days_digest_leaves_the_next_one_to_say_it(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin, _polls = await group_with_votes(agora, api, -100731)
    await agora.command(group, admin, "/bilan 09:00")
    clock.set("2026-11-26 09:00")
    [text, _photo] = await agora.fire_digest(group["id"])
    assert "définitifs" not in text["text"]
    clock.set("2026-11-26 12:00")
    await agora.command(group, admin, "/cloturer")
    clock.set("2026-11-27 09:00")
    [text, _photo] = await agora.fire_digest(group["id"])
    assert "Sondages clos le jeudi 26 novembre 2026" in text["text"]
    clock.set("2026-11-28 09:00")
    assert (await agora.digests.deliver(group["id"], daily=True)).value == "closed"
