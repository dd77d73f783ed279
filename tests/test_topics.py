"""Forum groups: everything answers in the topic it was asked in, and the daily digest goes to
the topic where it was turned on."""

from __future__ import annotations

from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock

POLLS_TOPIC, RESULTS_TOPIC, DIGEST_TOPIC = 7, 9, 11


async def test_answers_polls_files_and_digests_stay_in_their_topic(
    agora: Agora, api: FakeBotAPI, clock: FakeClock
) -> None:
    forum = api.group(-100990, "Forum", forum=True)
    admin = api.user(10, "Ada")
    api.set_admin(forum["id"], admin)

    sent = await agora.command(forum, admin, "/sondage", topic=POLLS_TOPIC)
    assert len(sent) == 7
    assert {m.get("message_thread_id") for m in sent} == {POLLS_TOPIC}
    poll = next(m["poll"]["id"] for m in sent if "poll" in m)
    await agora.vote(poll, api.user(500, "V"), [1])

    [results] = await agora.command(forum, admin, "/resultats", topic=RESULTS_TOPIC)
    assert results["message_thread_id"] == RESULTS_TOPIC
    [csv_file] = await agora.command(forum, admin, "/exporter", topic=POLLS_TOPIC)
    assert (csv_file["message_thread_id"], "document" in csv_file) == (POLLS_TOPIC, True)
    [unknown] = await agora.command(forum, admin, "/sondage nimporte", topic=RESULTS_TOPIC)
    assert unknown["message_thread_id"] == RESULTS_TOPIC

    [status] = await agora.command(forum, admin, "/bilan on", topic=DIGEST_TOPIC)
    assert status["message_thread_id"] == DIGEST_TOPIC
    clock.set("2026-11-26 09:00")
    [text, chart] = await agora.fire_digest(forum["id"])
    assert text["text"].startswith("🗞 Bilan du jeudi 26 novembre 2026")
    assert (text["message_thread_id"], chart["message_thread_id"]) == (DIGEST_TOPIC,) * 2

    # A command in General (no topic) is answered in General.
    [general] = await agora.command(forum, admin, "/aide")
    assert "message_thread_id" not in general
