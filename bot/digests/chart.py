"""The digest's chart: what it shows (`chart_spec`, stored in the outbox as JSON) and its
drawing (`draw_chart`, by the sender just before the photo goes out; bot.digests.drawing
renders)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from functools import partial
from typing import Any

from telegram.constants import ChatType

from bot.core.content import NEUTRAL_OPTION, Article
from bot.core.formatting import voters_text
from bot.core.i18n import (
    _,
    current_language,
    format_long_date,
    format_number,
    format_share,
    ngettext,
    using_language,
)
from bot.digests.drawing.panels import ChartLabels, ChartQuestion
from bot.digests.drawing.render import render_chart
from bot.digests.drawing.style import TREND_DAYS
from bot.digests.text import Numbers, read_tally
from bot.insights.intervals import Reading, read_lead
from bot.insights.verdicts import confidence
from storage.polls import QuestionTally

CAPTION_LIMIT = 1024


def leader_trend(
    key: str, leader: int, history: Sequence[tuple[date, Numbers]], numbers: Numbers, day: date
) -> list[list[float]]:
    """The share of option `leader` in the chat on each of the last TREND_DAYS days a digest
    recorded (the latest of a day counts), today's included: [days before `day` (<= 0),
    share], oldest first."""
    points: dict[int, float] = {}
    for recorded, earlier in history:
        offset = (recorded - day).days
        tally = read_tally(earlier, "chat", key)
        if -TREND_DAYS < offset < 0 and tally is not None and tally.voters:
            points[offset] = tally.share(leader)
    today = read_tally(numbers, "chat", key)
    if today is not None and today.voters:
        points[0] = today.share(leader)
    return [[offset, round(share, 4)] for offset, share in sorted(points.items())]


def chart_questions(
    article: Article,
    numbers: Numbers,
    day: date,
    history: Sequence[tuple[date, Numbers]] = (),
) -> list[ChartQuestion]:
    """The chart's questions: the chat's counts, which option takes no side, which one leads
    clearly (only when the margin of error allows naming it), and how the most chosen option
    fared over the recorded digests of the last days (`history`: day and numbers)."""
    language = current_language()
    charts = []
    for question in article.questions:
        here = read_tally(numbers, "chat", question.key) or QuestionTally()
        options = question.options[language]
        lead = read_lead(here.voters, here.votes, len(options))
        neutral = NEUTRAL_OPTION.get(language)
        charts.append(
            ChartQuestion(
                text=question.text[language],
                options=list(options),
                votes=[here.votes.get(i, 0) for i in range(len(options))],
                voters=here.voters,
                multiple=question.multiple,
                neutral=options.index(neutral) if neutral in options else None,
                leader=lead.first if lead.reading is Reading.LEADER else None,
                trend=leader_trend(question.key, lead.first, history, numbers, day)
                if lead.first is not None
                else [],
            )
        )
    return charts


def voters_in(language: str, count: int) -> str:
    with using_language(language):
        return voters_text(count)


def share_in(language: str, share: float, decimals: int) -> str:
    with using_language(language):
        return format_share(share, decimals)


def number_in(language: str, count: int) -> str:
    with using_language(language):
        return format_number(count)


ALL_CHATS = "all"  # a chart of every chat's figures together (the report's download)


def scope_heading(chat_type: str) -> str:
    if chat_type == ALL_CHATS:
        return _("Results in all chats — {date}")
    if chat_type == ChatType.PRIVATE:
        return _("Results of this chat — {date}")
    if chat_type == ChatType.CHANNEL:
        return _("Results of this channel — {date}")
    return _("Results of this group — {date}")


def chart_labels(title: str, day: date, chat_type: str) -> ChartLabels:
    """Translated words of the chart, bound to the current language now: the sender draws
    the chart in a thread of its drawing pool, where the current language (a ContextVar) is
    not the chat's. The number formats are partials bound to the chat's language."""
    language = current_language()
    subtitle = scope_heading(chat_type).format(date=format_long_date(day))
    return ChartLabels(
        title=title or subtitle,
        subtitle=subtitle if title else "",
        no_votes=_("No answers yet"),
        multiple=_("several answers allowed"),
        note=_("Black lines: the margin of error of each share ({confidence} confidence).").format(
            confidence=confidence()
        ),
        trend_note=_(
            "Curve: the share of today's most chosen option over the last {days} days."
        ).format(days=format_number(TREND_DAYS)),
        trend_span=ngettext("{days} day", "{days} days", TREND_DAYS).format(
            days=format_number(TREND_DAYS)
        ),
        voters=partial(voters_in, language),
        share=partial(share_in, language),
        count=partial(number_in, language),
    )


def chart_spec(
    article: Article,
    numbers: Numbers,
    day: date,
    chat_type: str,
    history: Sequence[tuple[date, Numbers]] = (),
) -> dict[str, Any]:
    """The chart as JSON, stored in the outbox and drawn (`draw_chart`) just before sending;
    `history`: the day and numbers of the chat's digests of the last days, for the trends."""
    return {
        "language": current_language(),
        "day": day.isoformat(),
        "chat_type": chat_type,
        "title": article.title[current_language()],
        "questions": [
            asdict(question) for question in chart_questions(article, numbers, day, history)
        ],
    }


def draw_chart(spec: dict[str, Any]) -> list[bytes]:
    """The PNG pages of a chart described by `chart_spec` (one photo, or an album)."""
    with using_language(spec["language"]):
        # Charts queued before channels said only whether the chat was private.
        chat_type = spec.get("chat_type") or (
            ChatType.PRIVATE if spec.get("private") else ChatType.GROUP
        )
        labels = chart_labels(spec.get("title", ""), date.fromisoformat(spec["day"]), chat_type)
    return render_chart([ChartQuestion(**question) for question in spec["questions"]], labels)


def caption(day: date, chat_type: str) -> str:
    if chat_type == ChatType.PRIVATE:
        text = _("Results of this chat on {date}")
    elif chat_type == ChatType.CHANNEL:
        text = _("Results of this channel on {date}")
    else:
        text = _("Results of this group on {date}")
    return text.format(date=format_long_date(day))[:CAPTION_LIMIT]
