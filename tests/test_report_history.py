"""The report's days: the results recorded each quarter of an hour when they changed, read
back as the participation per day (new voters, voters, opinions) and each question's leader
over the last 14 days, on SQLite and PostgreSQL; and a history that began after the
article's first votes (an older deployment) says which days it does not know."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from bot.core.i18n import using_language
from bot.core.settings import Settings
from bot.report.days import short_date
from bot.report.history import next_record
from storage.models import ResultSnapshot
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, start_agora
from tests.test_report import ARTICLE, NBSP, bearer, get, report_settings

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Days:
    """Three days of votes on the first question: 10 for its first option on the first
    day, 10 for its second on the next, 5 more for the second today."""

    agora: Agora
    base: str
    first_day: datetime
    poll: str  # the first question's poll
    key: str  # and its key


def days_table(page: str) -> list[list[str]]:
    """The rows of the page's table of days: day, new voters, voters, opinions."""
    table = re.search(r'<section class="card days">.*?<tbody>(.*?)</tbody>', page, re.DOTALL)
    assert table is not None, "no table of days on the page"
    return [
        [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(1))
    ]


def trends(page: str) -> list[str]:
    found = re.findall(r'<div class="trend-row">.*?<small>(.*?)</small>', page, re.DOTALL)
    return [html.unescape(words) for words in found]


async def vote(
    agora: Agora, api: FakeBotAPI, poll: str, first: int, count: int, option: int
) -> None:
    for n in range(first, first + count):
        await agora.settle(api.vote(poll, api.user(5000 + n, f"V{n}"), [option]))


@pytest.fixture
async def three_days(
    api: FakeBotAPI, settings: Settings, clock: FakeClock
) -> AsyncIterator[Days]:
    settings = report_settings(settings)
    # Telegram dates the polls and the opinions now: the bot's clock starts just after.
    start = datetime.now(UTC).astimezone(PARIS) + timedelta(seconds=1)
    clock.now = start
    async with start_agora(api, settings, clock) as agora:
        # The leading instance records the history every quarter of an hour; the test
        # records it itself, at the moments it chooses.
        assert agora.app.job_queue is not None
        [job] = agora.app.job_queue.get_jobs_by_name("agora-history")
        assert job.next_t is not None
        assert 0 < (job.next_t - datetime.now(UTC)).total_seconds() <= 900
        job.schedule_removal()
        group, admin = api.group(-100951, "Débat du soir"), api.user(10, "Ada")
        api.set_admin(group["id"], admin)
        polls = [m for m in await agora.command(group, admin, "/sondage") if "poll" in m]
        question = polls[0]["poll"]["id"]
        await vote(agora, api, question, 0, 10, 0)
        await agora.command(group, api.user(11, "Max"), "/avis Une crise de gouvernance")
        leadership = agora.app.bot_data.leadership
        assert await leadership.record_history() > 0
        assert await leadership.record_history() == 0  # nothing changed: nothing written
        clock.now = start + timedelta(days=1)
        await vote(agora, api, question, 10, 10, 1)
        assert await leadership.record_history() > 0
        clock.now = start + timedelta(days=2)
        await vote(agora, api, question, 20, 5, 1)  # today's: the live figures count them
        key = agora.app.bot_data.services.library.latest.questions[0].key
        yield Days(agora, f"http://127.0.0.1:{settings.report_port}", start, question, key)


async def test_each_day_says_its_new_voters_and_opinions(three_days: Days) -> None:
    status, page, _ = await get(f"{three_days.base}/report/{ARTICLE}", headers=bearer())
    assert status == 200, page
    first = three_days.first_day.date()
    with using_language("fr"):
        names = [short_date(first + timedelta(days=n)) for n in (2, 1, 0)]
    # Newest first: today's 5 new voters (25 in all), 10 the day before, 10 on the first day
    # with the one opinion; nothing before the article's first votes.
    assert days_table(page) == [
        [names[0], "5", "25", "0"],
        [names[1], "10", "20", "0"],
        [names[2], "10", "10", "1"],
    ]
    assert "Nouveaux votants par jour" in page
    assert 'aria-label="Avis écrits par jour"' in page
    # The first question's leader today (its second option, 15 of 25) was at 0 % on the
    # first day; the digest's words for the change.
    assert trends(page)[0].endswith(
        f"{NBSP}: 0,0{NBSP}% le {names[2]}, 60,0{NBSP}% aujourd’hui (+60,0{NBSP}pts)."
    )
    assert len(trends(page)) == 1  # the other questions have no votes

    _, english, _ = await get(f"{three_days.base}/report/{ARTICLE}?lang=en", headers=bearer())
    with using_language("en"):
        day = short_date(first)
    assert "New voters per day" in english
    assert trends(english)[0].endswith(f": 0.0% on {day}, 60.0% today (+60.0{NBSP}pts).")
    assert [row[1:] for row in days_table(english)] == [
        ["5", "25", "0"],
        ["10", "20", "0"],
        ["10", "10", "1"],
    ]


async def test_a_history_begun_late_says_what_it_does_not_know(three_days: Days) -> None:
    """The zero snapshots gone (as after an upgrade, while votes already existed): the days
    before the history are not recorded, neither are the new voters of its first day."""
    async with three_days.agora.engine.begin() as connection:
        await connection.execute(delete(ResultSnapshot).where(ResultSnapshot.voters == 0))
        left = await connection.scalar(select(func.count()).select_from(ResultSnapshot))
    assert left == 2  # the first question's two days
    _, page, _ = await get(f"{three_days.base}/report/{ARTICLE}", headers=bearer())
    # The first day: its voters (10, recorded at its end) but not how many were new.
    assert [row[1:] for row in days_table(page)] == [
        ["5", "25", "0"],
        ["10", "20", "0"],
        ["—", "10", "1"],
    ]
    async with three_days.agora.engine.begin() as connection:
        await connection.execute(delete(ResultSnapshot))
    _, page, _ = await get(f"{three_days.base}/report/{ARTICLE}", headers=bearer())
    # No history at all: today's voters, and only the first day's opinion before them.
    assert [row[1:] for row in days_table(page)] == [
        ["—", "25", "0"],
        ["—", "—", "0"],
        ["—", "—", "1"],
    ]
    assert trends(page) == []  # one day known: no trend to draw


def test_snapshots_come_just_before_each_quarter_of_an_hour() -> None:
    assert next_record(datetime(2026, 12, 2, 23, 44, 20, tzinfo=UTC)) == pytest.approx(20.0)
    assert next_record(datetime(2026, 12, 2, 23, 59, 40, tzinfo=UTC)) == pytest.approx(900.0)
    assert next_record(datetime(2026, 12, 2, 23, 59, 50, tzinfo=UTC)) == pytest.approx(890.0)
    for language, expected in (("fr", "2 déc."), ("en", "2 Dec")):
        with using_language(language):
            assert short_date(date(2026, 12, 2)) == expected


async def test_an_hour_keeps_its_last_snapshot_and_the_zero_stays(
    three_days: Days, api: FakeBotAPI, clock: FakeClock
) -> None:
    agora, leadership = three_days.agora, three_days.agora.app.bot_data.leadership

    async def first_question() -> list[tuple[int, list[int]]]:
        async with agora.engine.connect() as connection:
            rows = await connection.execute(
                select(ResultSnapshot.voters, ResultSnapshot.votes)
                .where(ResultSnapshot.question_key == three_days.key)
                .order_by(ResultSnapshot.taken_at)
            )
            return [(voters, list(votes)) for voters, votes in rows]

    before = await first_question()
    assert before[0] == (0, [0, 0, 0, 0, 0])  # its zero, written with its first poll
    assert [voters for voters, _ in before] == [0, 10, 20]
    today = three_days.first_day + timedelta(days=2)
    clock.now = today.replace(minute=5)
    assert await leadership.record_history() == 1  # today's 5 votes
    clock.now = today.replace(minute=20)
    await vote(agora, api, three_days.poll, 25, 2, 0)
    assert await leadership.record_history() == 1
    after = await first_question()
    # The same hour: its snapshot replaced by the later one, not a second row.
    assert [voters for voters, _ in after] == [0, 10, 20, 27]
    assert after[-1][1][:2] == [12, 15]
