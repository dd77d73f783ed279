"""The digest's chart: what it shows (`chart_spec`, stored in the outbox as JSON) and its
drawing (`draw_chart`, by the sender just before the photo goes out; bot.chart renders)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from functools import partial
from typing import Any

from bot.chart import ChartLabels, ChartQuestion, render_chart
from bot.content import Article
from bot.digests.text import Numbers, read_tally
from bot.formatting import voters_text
from bot.i18n import _, current_language, format_long_date, format_share, using_language
from bot.verdicts import confidence
from storage.queries import QuestionTally

CAPTION_LIMIT = 1024


def chart_questions(article: Article, numbers: Numbers) -> list[ChartQuestion]:
    language = current_language()
    charts = []
    for question in article.questions:
        here = read_tally(numbers, "chat", question.key) or QuestionTally()
        options = question.options[language]
        charts.append(
            ChartQuestion(
                text=question.text[language],
                options=list(options),
                votes=[here.votes.get(i, 0) for i in range(len(options))],
                voters=here.voters,
            )
        )
    return charts


def voters_in(language: str, count: int) -> str:
    with using_language(language):
        return voters_text(count)


def share_in(language: str, share: float) -> str:
    with using_language(language):
        return format_share(share)


def chart_labels(day: date, private: bool) -> ChartLabels:
    """Translated words of the chart, bound to the current language now: the chart is drawn
    in another process, where the language is not the chat's. Partials of module functions
    (not closures) so that they can be pickled there."""
    language = current_language()
    title = _("Results of this chat — {date}") if private else _("Results of this group — {date}")
    return ChartLabels(
        title=title.format(date=format_long_date(day)),
        no_votes=_("No answers yet"),
        note=_("Black lines: the margin of error of each share ({confidence} confidence).").format(
            confidence=confidence()
        ),
        voters=partial(voters_in, language),
        share=partial(share_in, language),
    )


def chart_spec(article: Article, numbers: Numbers, day: date, private: bool) -> dict[str, Any]:
    """The chart as JSON, stored in the outbox and drawn (`draw_chart`) just before sending."""
    return {
        "language": current_language(),
        "day": day.isoformat(),
        "private": private,
        "questions": [asdict(question) for question in chart_questions(article, numbers)],
    }


def draw_chart(spec: dict[str, Any]) -> bytes:
    """The PNG of a chart described by `chart_spec`."""
    with using_language(spec["language"]):
        labels = chart_labels(date.fromisoformat(spec["day"]), spec["private"])
    return render_chart([ChartQuestion(**question) for question in spec["questions"]], labels)


def caption(day: date, private: bool) -> str:
    text = _("Results of this chat on {date}") if private else _("Results of this group on {date}")
    return text.format(date=format_long_date(day))[:CAPTION_LIMIT]
