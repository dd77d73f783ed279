"""Daily digests: settings, content, scheduling, exactly-once delivery, failures, migration."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bot.core.i18n import using_language
from bot.core.settings import Settings
from bot.digests.chart import chart_labels
from bot.digests.drawing.panels import ChartQuestion, option_value, voters_line
from bot.insights.results_text import signed_points
from storage.models import Chat, InboxUpdate, Opinion, OutboxMessage
from tests.support.botapi import FakeBotAPI, image_size
from tests.support.harness import Agora, FakeClock, start_agora

pytestmark = pytest.mark.floors

NBSP, NNBSP = "\u00a0", "\u202f"
PARIS = ZoneInfo("Europe/Paris")


async def subscribed_group(
    agora: Agora, api: FakeBotAPI, chat_id: int = -100900, command: str = "/bilan 09:00"
) -> tuple[dict, dict]:
    group = api.group(chat_id, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    await agora.command(group, admin, command)
    return group, admin


async def vote_in(
    agora: Agora,
    api: FakeBotAPI,
    group: dict,
    admin: dict,
    choices: list[int],
    first_user: int = 5000,
) -> list[dict]:
    sent = await agora.command(group, admin, "/sondage")
    polls = [m["poll"] for m in sent if "poll" in m]
    for offset, option in enumerate(choices):
        await agora.vote(polls[0]["id"], api.user(first_user + offset, f"U{offset}"), [option])
    agora.new_messages()
    return polls


async def test_settings_and_bad_input_in_french(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100901, "Débat")
    admin, member = api.user(10, "Ada"), api.user(11, "Max")
    api.set_admin(group["id"], admin)
    [status] = await agora.command(group, member, "/bilan")
    assert status["text"].startswith(f"Bilan quotidien{NBSP}: désactivé.")
    assert "Heure prévue\u00a0: 09:00 (Europe/Paris)" in status["text"]

    [bad_time] = await agora.command(group, admin, "/bilan 25:99")
    assert bad_time["text"].startswith(f"Je n’ai pas compris «{NBSP}25:99{NBSP}».")
    [bad_word] = await agora.command(group, admin, "/bilan bientôt")
    assert f"«{NBSP}bientôt{NBSP}»" in bad_word["text"]
    [bad_zone] = await agora.command(group, admin, "/fuseau Mars/Olympus")
    assert bad_zone["text"].startswith(
        f"Je ne connais pas le fuseau horaire «{NBSP}Mars/Olympus{NBSP}». Écrivez-le au format "
        "Continent/Ville, par exemple Europe/Paris"
    )
    chat = await agora.chat(group["id"])
    assert chat is not None
    assert (chat.digest_enabled, chat.digest_time, chat.timezone) == (False, None, None)
    assert agora.digests.job(group["id"]) is None

    [refused] = await agora.command(group, member, "/bilan on")
    assert refused["text"] == (
        "Seuls les administrateurs du groupe peuvent modifier le bilan\u00a0: "
        "demandez-le à l’un d’eux."
    )
    assert agora.digests.job(group["id"]) is None

    [on] = await agora.command(group, admin, "/bilan 18h30")
    assert on["text"].startswith(
        f"Bilan quotidien{NBSP}: activé, chaque jour à 18:30 (Europe/Paris)."
    )
    assert f"Prochain envoi{NBSP}: jeudi 26 novembre à 18:30." in on["text"]
    assert f"Modifier{NBSP}: /bilan désactiver · /bilan HH:MM · /bilan maintenant" in on["text"]
    job = agora.digests.job(group["id"])
    assert job is not None
    assert job.next_t.astimezone(PARIS).strftime("%H:%M") == "18:30"

    [zone] = await agora.command(group, admin, "/fuseau America/Montreal")
    assert "18:30 (America/Montreal)" in zone["text"]
    [shown] = await agora.command(group, member, "/fuseau")
    assert shown["text"].startswith(
        f"Fuseau horaire{NBSP}: America/Montreal (heure locale{NBSP}: 02:00)."
    )
    job = agora.digests.job(group["id"])
    assert job is not None
    assert job.next_t.astimezone(ZoneInfo("America/Montreal")).strftime("%H:%M") == "18:30"

    [off] = await agora.command(group, admin, "/bilan off")
    assert "désactivé" in off["text"]
    assert agora.digests.job(group["id"]) is None


async def test_settings_in_english(agora: Agora, api: FakeBotAPI) -> None:
    bob = api.user(12, "Bob", language_code="en")
    chat = api.private_chat(bob)
    [bad] = await agora.command(chat, bob, "/digest soon")
    assert bad["text"] == (
        "I don't understand “soon”. Use /digest on, /digest off, /digest now, or a time such as "
        "/digest 18:30 (00:00 to 23:59)."
    )
    [bad_zone] = await agora.command(chat, bob, "/timezone Mars/Olympus")
    assert bad_zone["text"].startswith(
        "I don't know the time zone “Mars/Olympus”. Write it as Continent/City"
    )
    [on] = await agora.command(chat, bob, "/digest on")
    assert on["text"].startswith("Daily digest: on, every day at 09:00 (Europe/Paris).")
    [zone] = await agora.command(chat, bob, "/timezone")
    assert zone["text"].startswith("Time zone: Europe/Paris (local time: 08:00).")
    assert "Next one: Thursday, 26 November at 09:00." in on["text"]


async def test_digest_content_chart_and_once_a_day(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api)
    await vote_in(agora, api, group, admin, [0, 0, 1])
    clock.set("2026-11-26 09:00")
    sent = await agora.fire_digest(group["id"])
    text, photo = sent[0], sent[-1]
    assert text["text"].startswith("🗞 Bilan du jeudi 26 novembre 2026\nCrise à la tête d’OpenAI")
    assert f"Ce groupe{NBSP}: 3 votants" in text["text"]
    assert f"███████░░░ 66,7{NBSP}% (2) Une crise de gouvernance inquiétante" in text["text"]
    # Three voters: no leader is named, whatever the shares.
    assert f"Seuls 3 votants{NBSP}: trop peu pour en tirer des conclusions." in text["text"]
    assert "En tête" not in text["text"]
    assert f"Total{NBSP}: 3 votants" in text["text"]
    assert "photo" in photo
    assert photo["caption"] == "Résultats de ce groupe, jeudi 26 novembre 2026"
    png = api.calls_of("sendPhoto")[-1]["photo"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    [record] = await agora.digests_of(group["id"])
    assert record.status == "sent"
    assert str(record.daily_date) == "2026-11-26"
    assert record.numbers["chat"]["opinion"]["voters"] == 3

    # The job firing again the same local day sends nothing.
    clock.set("2026-11-26 21:00")
    outcome = await agora.digests.deliver(group["id"], daily=True)
    assert outcome.value == "already sent"
    assert agora.new_messages() == []

    # Next day: twelve more voters, and the change since the previous digest.
    polls = [m["poll"] for m in api.sent(method="sendPoll")]
    for offset in range(12):
        await agora.vote(polls[0]["id"], api.user(6000 + offset, f"N{offset}"), [1])
    agora.new_messages()
    clock.set("2026-11-27 09:00")
    [text, _photo] = await agora.fire_digest(group["id"])
    assert "Bilan du vendredi 27 novembre 2026" in text["text"]
    assert (
        f"Entre parenthèses{NBSP}: le nombre de votes{NNBSP}; avec un signe (+ ou −), l’évolution "
        "depuis le dernier bilan."
    ) in text["text"]
    # The all-chats numbers are read again on a new day (they are reused during a fan-out).
    assert (
        f"Ce groupe{NBSP}: 15 votants (+12) · Total{NBSP}: 15 votants (+12)"
    ) in text["text"]
    assert "(+0 " not in text["text"]  # the questions nobody answered since show no change
    # Leader: option 1 now 13/15 = 86.7 % (Wilson 62.1-96.3 %, clear of option 0's 2/15,
    # 3.7-37.9 %); it had 1/3 = 33.3 % in the previous digest.
    assert (
        f"En tête{NBSP}: «{NBSP}Un débat légitime sur la sécurité de l’IA{NBSP}» avec 86,7{NBSP}% "
        f"(+53,3{NBSP}pts){NNBSP}; l’intervalle de confiance à 95{NBSP}% va de 62,1{NBSP}% à "
        f"96,3{NBSP}%."
    ) in text["text"]

    # /resultats the same day: each share's change since the previous day's digest.
    results = "\n".join(m["text"] for m in await agora.command(group, admin, "/resultats"))
    assert (
        f"Entre parenthèses{NBSP}: le nombre de votes{NNBSP}; avec un signe (+ ou −), l’évolution "
        "depuis le bilan du jeudi 26 novembre 2026."
    ) in results
    assert f"█░░░░░░░░░ 13,3{NBSP}% (2, −53,3{NBSP}pts)" in results
    assert f"█████████░ 86,7{NBSP}% (13, +53,3{NBSP}pts)" in results
    # The same question block as the digest's: voters and their change, then the verdict.
    assert f"Ce groupe{NBSP}: 15 votants (+12) · Total{NBSP}: 15" in results
    leader = (
        f"En tête{NBSP}: «{NBSP}Un débat légitime sur la sécurité de l’IA{NBSP}» avec 86,7{NBSP}% "
        f"(+53,3{NBSP}pts)"
    )
    assert leader in results


async def test_digest_in_english_without_votes_has_no_chart(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api, command="/lang en")
    await agora.command(group, admin, "/digest 09:00")
    clock.set("2026-11-26 09:00")
    [message] = await agora.fire_digest(group["id"])
    assert message["text"] == (
        "🗞 Digest of Thursday, 26 November 2026\nCrisis at the top of OpenAI: Sam Altman's "
        "firing sparks chaos\n\nNo answers yet. Post the polls with /poll and invite everyone "
        "to vote."
    )
    assert api.calls_of("sendPhoto") == []


async def test_digest_now_does_not_disturb_the_daily_one(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api)
    await vote_in(agora, api, group, admin, [2])
    clock.set("2026-11-26 08:30")
    sent = await agora.command(group, admin, "/bilan now")  # its answer: the digest
    await agora.until(lambda: agora.digest_settled(0))
    assert len(sent + agora.new_messages()) == 2  # the text and the chart
    clock.set("2026-11-26 09:00")
    sent = await agora.fire_digest(group["id"])
    assert len(sent) == 2
    records = await agora.digests_of(group["id"])
    assert [r.daily_date is None for r in records] == [True, False]


async def test_restart_rearms_and_sends_a_missed_digest_once(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    clock.set("2026-11-26 08:00")
    async with start_agora(api, settings, clock) as agora:
        group, _admin = await subscribed_group(agora, api)
    # Restarted just before the hour: the job is armed for today, nothing is sent yet.
    clock.set("2026-11-26 08:59")
    async with start_agora(api, settings, clock) as agora:
        job = agora.digests.job(group["id"])
        assert job is not None
        assert job.next_t.astimezone(PARIS).strftime("%H:%M") == "09:00"
        assert await agora.digests_of(group["id"]) == []
    # Down at 09:00, back at 10:30 the same day: the missed digest goes out once.
    clock.set("2026-11-26 10:30")
    async with start_agora(api, settings, clock) as agora:
        await agora.until(lambda: agora.digest_settled(0))
        assert len(agora.new_messages()) == 1
    clock.set("2026-11-26 11:00")
    async with start_agora(api, settings, clock) as agora:
        await agora.command(group, None, "/aide", sender_chat=group)  # the bot is up and idle
        assert len(await agora.digests_of(group["id"])) == 1


async def test_a_missed_digest_counts_the_votes_left_in_the_inbox(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    """A vote acknowledged (stored in the inbox) but not handled when the bot went down: the
    digest caught up at the restart counts it, since the catch-up waits for the inbox."""
    clock.set("2026-11-26 08:00")
    async with start_agora(api, settings, clock) as agora:
        group, admin = await subscribed_group(agora, api)
        polls = [m for m in await agora.command(group, admin, "/sondage") if "poll" in m]
    api.vote(polls[0]["poll"]["id"], api.user(700, "Val"), [1])
    update = api.pending_updates()[-1]
    api._ack(update["update_id"] + 1)  # Telegram forgot it: only the inbox holds it
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as connection:
        await connection.execute(
            insert(InboxUpdate),
            [
                {
                    "update_id": update["update_id"],
                    "chat_id": None,
                    "body": json.dumps(update),
                    "received_at": datetime.now(UTC),
                    "attempts": 0,
                }
            ],
        )
    await engine.dispose()
    clock.set("2026-11-26 10:30")  # down at 09:00
    async with start_agora(api, settings, clock) as agora:
        await agora.until(lambda: agora.digest_settled(0))
        [digest] = [m for m in agora.new_messages() if "Bilan du" in m.get("text", "")]
        assert "1 votant" in digest["text"], digest["text"]
        assert len(api.sent(chat_id=group["id"], method="sendPhoto")) == 1  # votes: a chart


async def test_daylight_saving_keeps_the_local_hour(agora: Agora, api: FakeBotAPI) -> None:
    group, _admin = await subscribed_group(agora, api)
    job = agora.digests.job(group["id"])
    assert job is not None
    trigger = job.job.trigger
    spring = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 10, 0, tzinfo=PARIS))
    autumn = trigger.get_next_fire_time(None, datetime(2026, 10, 24, 10, 0, tzinfo=PARIS))
    assert spring.astimezone(UTC) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert spring.astimezone(PARIS).hour == autumn.astimezone(PARIS).hour == 9


@pytest.mark.parametrize("gone", ["blocked", "deleted"])
async def test_a_blocked_or_deleted_chat_stops_without_affecting_others(
    agora: Agora, api: FakeBotAPI, clock: FakeClock, gone: str
) -> None:
    """A chat that blocked the bot (403), or that its owner deleted (Telegram answers 400
    "chat not found"): its digest stops and nothing more is queued for it, instead of
    failing every day."""
    stopped, _ = await subscribed_group(agora, api, chat_id=-100910)
    fine, _ = await subscribed_group(agora, api, chat_id=-100911)
    if gone == "blocked":
        api.block_chat(stopped["id"])
    else:
        api.delete_chat(stopped["id"])
    clock.set("2026-11-26 09:00")
    await agora.fire_digest(stopped["id"])
    sent = await agora.fire_digest(fine["id"])
    assert [m["chat"]["id"] for m in sent] == [fine["id"]]
    chat = await agora.chat(stopped["id"])
    assert chat is not None
    assert chat.active is False
    assert agora.digests.job(stopped["id"]) is None
    assert agora.digests.job(fine["id"]) is not None


async def test_flood_limit_is_waited_out(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    async with start_agora(api, settings, clock) as agora:
        group, _ = await subscribed_group(agora, api)
        api.fail_next(
            "sendMessage",
            429,
            "Too Many Requests: retry after 1",
            retry_after=1,
            chat_id=group["id"],
        )
        clock.set("2026-11-26 09:00")
        [message] = await agora.fire_digest(group["id"])
        assert message["text"].startswith("🗞 Bilan du jeudi 26 novembre 2026")
        [record] = await agora.digests_of(group["id"])
        assert record.status == "sent"


async def test_upgraded_group_keeps_settings_language_and_votes(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api, chat_id=-900)
    await agora.command(group, admin, "/lang en")
    await vote_in(agora, api, group, admin, [0, 1])
    await agora.settle(api.migrate(-900, -100900900))
    chat = await agora.chat(-100900900)
    assert chat is not None
    assert (chat.language, chat.digest_enabled, chat.digest_time) == ("en", True, "09:00")
    assert await agora.chat(-900) is None
    assert len(await agora.polls(-100900900)) == 6
    assert agora.digests.job(-900) is None
    clock.set("2026-11-26 09:00")
    [text, _photo] = await agora.fire_digest(-100900900)
    assert "This group: 2 voters" in text["text"]


async def test_upgraded_group_polls_are_not_the_supergroup_messages_of_the_same_id(
    agora: Agora, api: FakeBotAPI
) -> None:
    """The supergroup numbers its messages from 1 again: a reply to its first messages is no
    reply to the group's polls, and /poll says the polls are posted without pointing to one."""
    group, admin = await subscribed_group(agora, api, chat_id=-902)
    await agora.command(group, admin, "/lang en")
    await agora.command(group, admin, "/poll")
    first_poll = min(p.message_id for p in await agora.polls(-902))
    await agora.settle(api.migrate(-902, -100902902))
    supergroup = api.chats[-100902902]
    while api.last_message_id(-100902902) < first_poll:
        await agora.command(supergroup, admin, "/help")
    member = api.user(77, "Max")
    answers = await agora.command(
        supergroup, member, "A reply to a help message", reply_to_message_id=first_poll
    )
    assert answers == []
    async with AsyncSession(agora.engine) as session:
        assert (await session.scalars(select(Opinion))).all() == []
    [pointer] = await agora.command(supergroup, admin, "/poll")
    assert pointer["text"] == (
        "The polls of this article are already posted in this chat. Results: /results"
    )
    assert "reply_to_message" not in pointer
    assert len(await agora.polls(-100902902)) == 6


async def test_send_to_an_upgraded_group_follows_it(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    await subscribed_group(agora, api, chat_id=-901)
    api.group(-100901901, "Débat")
    api.fail_next(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-100901901,
        chat_id=-901,
    )
    clock.set("2026-11-26 09:00")
    [message] = await agora.fire_digest(-901)
    assert message["chat"]["id"] == -100901901
    chat = await agora.chat(-100901901)
    assert chat is not None
    assert chat.digest_enabled
    assert agora.digests.job(-100901901) is not None


async def test_greeting_when_added_and_stop_when_removed(agora: Agora, api: FakeBotAPI) -> None:
    group = api.group(-100920, "Nouveaux")
    ada = api.user(10, "Ada")
    [hello] = await agora.settle(api.my_chat_member(group, ada, "left", "member"))
    assert hello["text"].startswith(f"Bonjour{NNBSP}! Je suis Agora")
    assert "/resume" in hello["text"]
    assert "/bilan activer" in hello["text"]
    # Being promoted is not joining again: no second greeting.
    assert await agora.settle(api.my_chat_member(group, ada, "member", "administrator")) == []
    chat = await agora.chat(group["id"])
    assert chat is not None
    assert chat.digest_enabled is False
    await agora.settle(api.my_chat_member(group, ada, "administrator", "kicked"))
    chat = await agora.chat(group["id"])
    assert chat is not None
    assert chat.active is False


@pytest.mark.parametrize("text", ["9:05", "09:05", "9h05"])
def test_time_parsing(text: str) -> None:
    from handlers.digest import parse_time

    assert parse_time(text) == "09:05"
    assert parse_time("24:00") is None


async def test_digest_counts_new_opinions_with_excerpts(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api)
    await vote_in(agora, api, group, admin, [0])
    first_poll = api.sent(method="sendPoll")[0]
    long_text = "Le conseil a agi " + "très " * 40 + "vite."
    await agora.command(group, api.user(60, "Léa"), long_text,
                        reply_to_message_id=first_poll["message_id"])
    await agora.command(group, api.user(61, "Tom <3"), "/avis Microsoft gagne")
    clock.set("2026-11-26 09:00")
    [text, _photo] = await agora.fire_digest(group["id"])
    assert f"💬 2 avis jusqu’ici\n«{NBSP}Microsoft gagne{NBSP}» — Tom &lt;3\n" in api.calls_of(
        "sendMessage"
    )[-1]["text"]
    excerpt = text["text"].split(f"«{NBSP}Le conseil")[1].split(f"{NBSP}»")[0]
    assert excerpt.endswith("très…")  # cut between words
    assert len(excerpt) < 130

    await agora.command(group, api.user(62, "Max"), "/avis Encore un avis")
    clock.set("2026-11-27 09:00")
    [text, _photo] = await agora.fire_digest(group["id"])
    assert f"💬 1 nouvel avis depuis le dernier bilan\n«{NBSP}Encore un avis{NBSP}» — Max" in (
        text["text"]
    )


async def test_fan_out_stays_within_telegram_limits(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    clock.set("2026-11-26 08:00")
    async with start_agora(api, settings, clock) as agora:
        groups = [
            (await subscribed_group(agora, api, chat_id=-100950 - n))[0] for n in range(45)
        ]
        before = len(api.sent(method="sendMessage"))
        # From here on the server answers 429 beyond 30 messages in any second, or 20 in any
        # minute to one group, as Telegram does. 45 digests due at once must not trip it.
        api.rate_limit(per_chat_per_minute=20, global_per_second=30)
        clock.set("2026-11-26 09:00")
        outcomes = await asyncio.gather(
            *(agora.digests.deliver(group["id"], daily=True) for group in groups)
        )
        assert {outcome.value for outcome in outcomes} == {"queued"}
        await agora.sent_out()
        assert api.too_many_requests == 0
        assert len(api.sent(method="sendMessage")) == before + 45


async def test_a_day_can_be_claimed_only_once(agora: Agora, api: FakeBotAPI) -> None:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from storage.digests import claim_digest

    group, _ = await subscribed_group(agora, api)
    day, now = date(2026, 11, 26), datetime(2026, 11, 26, 8, tzinfo=UTC)
    claims = []
    for _attempt in range(2):
        async with AsyncSession(agora.engine) as session, session.begin():
            claims.append(await claim_digest(
                session, chat_id=group["id"], local_date=day, daily=True, started_at=now,
                numbers={},
            ))
    assert claims[0] is not None
    assert claims[1] is None


async def test_digest_now_is_throttled_per_chat(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api, chat_id=-100960)
    clock.set("2026-11-26 10:02")
    await agora.command(group, admin, "/bilan now")
    await agora.until(lambda: agora.digest_settled(0))
    assert len(await agora.digests_of(group["id"])) == 1
    agora.new_messages()
    [refused] = await agora.command(group, admin, "/bilan maintenant")
    assert refused["text"] == (
        "Un bilan vient d’être envoyé. Le prochain à la demande sera possible à 10:12."
    )
    clock.set("2026-11-26 10:13")
    await agora.command(group, admin, "/bilan now")
    await agora.until(lambda: agora.digest_settled(1))
    assert len(await agora.digests_of(group["id"])) == 2


async def test_digest_now_asked_eight_times_at_once_sends_one(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    """Eight "/bilan now" sent together (one batch): the first is recorded with its digest in
    its own transaction, so each of the others finds it and is told when the next is
    possible; exactly one digest goes out."""
    group, admin = await subscribed_group(agora, api, chat_id=-100962)
    await vote_in(agora, api, group, admin, [1, 2])
    clock.set("2026-11-26 10:02")
    asked = [api.send_text(group, admin, "/bilan now") for _ in range(8)]
    sent = await agora.settle(asked[-1])
    await agora.until(lambda: agora.digest_settled(0))
    await agora.sent_out()
    [record] = await agora.digests_of(group["id"])
    assert (record.daily_date, record.status) == (None, "sent")
    sent += agora.new_messages()
    digests = [m for m in sent if m.get("text", "").startswith("🗞 Bilan du")]
    refused = [m["text"] for m in sent if "Un bilan vient d’être envoyé" in m.get("text", "")]
    assert len(digests) == 1
    assert len(api.sent(chat_id=group["id"], method="sendPhoto")) == 1
    assert refused == [
        "Un bilan vient d’être envoyé. Le prochain à la demande sera possible à 10:12."
    ] * 7


async def test_digests_on_demand_asked_in_two_transactions_at_once_make_one(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    """Two requests' transactions at the same time (two instances, or no chat turn): the
    second waits for the first to commit, then finds its digest and is refused."""
    from bot.digests.schedule import TooSoon

    group, _admin = await subscribed_group(agora, api, chat_id=-100963)
    clock.set("2026-11-26 10:02")
    work = agora.app.bot_data.services.work

    async def ask() -> None:
        async with work.unit() as unit:
            chat = await unit.session.get(Chat, group["id"])
            assert chat is not None
            await agora.digests.deliver_now(unit.session, chat)

    async with work.unit() as unit:
        chat = await unit.session.get(Chat, group["id"])
        assert chat is not None
        await agora.digests.deliver_now(unit.session, chat)
        second = asyncio.create_task(ask())
        await asyncio.sleep(0.5)
        assert not second.done()  # it waits for the first to end
    with pytest.raises(TooSoon) as refused:
        await second
    assert refused.value.again == datetime(2026, 11, 26, 9, 12, tzinfo=UTC)
    await agora.until(lambda: agora.digest_settled(0))
    assert len(await agora.digests_of(group["id"])) == 1


async def test_turning_the_digest_off_cancels_one_waiting_to_be_sent(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> None:
    settings = settings.model_copy(update={"rate_limit": True})
    async with start_agora(api, settings, clock) as agora:
        group, admin = await subscribed_group(agora, api, chat_id=-100961)
        while len(api.sent(chat_id=group["id"])) < 20:  # the group's minute is used up
            await agora.command(group, admin, "/aide")
        clock.set("2026-11-26 09:00")
        assert (await agora.digests.deliver(group["id"], daily=True)).value == "queued"
        failed = failed_digests()
        update_id = api.send_text(group, admin, "/bilan off")
        await agora.handled(update_id)
        [record] = await agora.digests_of(group["id"])
        assert record.status == "failed"
        assert failed_digests() == failed + 1  # counted as the sender counts a drop, once
        async with AsyncSession(agora.engine) as session:
            waiting = list(await session.scalars(
                select(OutboxMessage.method).where(OutboxMessage.status == "pending")
            ))
        assert waiting == ["sendMessage"]  # the answer to /bilan off; no digest any more
    assert not [m for m in api.sent(chat_id=group["id"]) if "Bilan du" in m.get("text", "")]


def failed_digests() -> float:
    return REGISTRY.get_sample_value("agora_digests_total", {"outcome": "failed"}) or 0.0


def test_changes_in_points_follow_each_language_plural_rule() -> None:
    """French: singular below 2 ("1,5 pt"); English: singular for a bare 1 only, never with a
    decimal shown ("+1.0 pts"). A minus sign, and a space that cannot break before the unit."""
    with using_language("fr"):
        assert [signed_points(p) for p in (1.5, -0.4, 2.0, 26.7)] == [
            "+1,5\u00a0pt", "\u22120,4\u00a0pt", "+2,0\u00a0pts", "+26,7\u00a0pts"
        ]
    with using_language("en"):
        assert [signed_points(p) for p in (1.5, 1.0, -0.4)] == [
            "+1.5\u00a0pts", "+1.0\u00a0pts", "\u22120.4\u00a0pts"
        ]


async def test_a_chart_taller_than_a_photo_goes_out_as_one_album_with_trends(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    group, admin = await subscribed_group(agora, api)
    sent = await agora.command(group, admin, "/sondage")
    polls = [m["poll"]["id"] for m in sent if "poll" in m]
    assert len(polls) == 6  # opinion, firing, risks*, microsoft, board_resign, future_impact*
    choices = {0: [[1]] * 11 + [[4]], 1: [[0]] * 6 + [[2]] * 6, 2: [[0, 1, 6]] * 12,
               3: [[3]] * 12, 5: [[0, 5]] * 12}
    for poll, answers in choices.items():
        for offset, options in enumerate(answers):
            await agora.vote(polls[poll], api.user(7000 + offset, f"V{offset}"), options)
    agora.new_messages()
    clock.set("2026-11-26 09:00")
    sent = await agora.fire_digest(group["id"])
    photos = [m for m in sent if "photo" in m]
    assert len(photos) == 2
    assert sent[-2:] == photos  # the album closes the digest
    assert photos[0]["media_group_id"] == photos[1]["media_group_id"]
    assert photos[0]["caption"] == "Résultats de ce groupe, jeudi 26 novembre 2026"
    assert "caption" not in photos[1]
    assert api.calls_of("sendPhoto") == []
    [album] = api.calls_of("sendMediaGroup")
    pages = [value for value in album.values() if isinstance(value, bytes)]
    assert len(pages) == 2
    for png in pages:
        width, height = image_size(png) or (0, 0)
        assert width == 1080
        assert height <= 2560
    [record] = await agora.digests_of(group["id"])
    assert record.status == "sent"  # the album completes the digest
    async with AsyncSession(agora.engine) as session:
        effect = await session.scalar(
            select(OutboxMessage.effect).where(OutboxMessage.method == "sendPhoto")
        )
    assert effect is not None
    assert effect["messages"] == 2  # two messages for the flood limits, after a restart too

    # What the chart shows, as the outbox holds it.
    [first] = await chart_specs(agora)
    opinion, firing, risks, _microsoft, board, future = first["questions"]
    assert first["title"] == (
        "Crise à la tête d’OpenAI\u00a0: le limogeage de Sam Altman sème le chaos"
    )
    assert (opinion["neutral"], opinion["leader"]) == (4, 1)  # 11 against 1: a clear lead
    assert firing["leader"] is None  # 6 against 6: too close to call
    assert (risks["multiple"], opinion["multiple"]) == (True, False)
    assert future["multiple"]
    assert future["votes"][:2] == [12, 0]
    assert (board["voters"], board["trend"]) == (0, [])
    assert opinion["trend"] == [[0, round(11 / 12, 4)]]  # one point: no curve yet

    # The next day, twelve more voters: option 0 leads now (12 against 11, too close).
    for offset in range(12):
        await agora.vote(polls[0], api.user(8000 + offset, f"W{offset}"), [0])
    agora.new_messages()
    clock.set("2026-11-27 09:00")
    await agora.fire_digest(group["id"])
    [_, second] = await chart_specs(agora)
    opinion = second["questions"][0]
    assert opinion["leader"] is None
    # Today's most chosen option, then and now: none of the first twelve chose it.
    assert opinion["trend"] == [[-1, 0.0], [0, 0.5]]
    assert second["questions"][3]["trend"] == [[-1, 1.0], [0, 1.0]]


async def chart_specs(agora: Agora) -> list[dict]:
    async with AsyncSession(agora.engine) as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.method == "sendPhoto").order_by(
                OutboxMessage.id
            )
        )
        return [row.payload["chart"] for row in rows]


def test_chart_values_and_voters_lines_in_both_languages() -> None:
    day = date(2026, 11, 26)
    with using_language("fr"):
        french = chart_labels("Titre", day, "supergroup")
    with using_language("en"):
        english = chart_labels("Title", day, "private")
    # Whole percentages below 100 voters, one decimal from 100 on; counts grouped.
    assert option_value(french, 11, 29) == f"38{NBSP}% (11)"
    assert option_value(french, 110, 290) == f"37,9{NBSP}% (110)"
    assert option_value(french, 1234, 3000) == f"41,1{NBSP}% (1{NNBSP}234)"
    assert option_value(english, 11, 29) == "38% (11)"
    assert option_value(english, 1234, 3000) == "41.1% (1,234)"
    many = ChartQuestion("?", ["a", "b"], [29, 20], 29, multiple=True)
    one = ChartQuestion("?", ["a", "b"], [9, 20], 29)
    assert voters_line(french, many) == "29 votants · plusieurs réponses possibles"
    assert voters_line(english, many) == "29 voters · several answers allowed"
    assert voters_line(french, one) == "29 votants"
    assert french.subtitle == "Résultats de ce groupe — jeudi 26 novembre 2026"
    assert english.subtitle == "Results of this chat — Thursday, 26 November 2026"
    assert french.trend_span == "14 jours"
