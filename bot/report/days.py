"""The report's days (bot.report.history): the participation per day, a chart for the new
voters and one for the opinions with their figures in a table, and each question's leader
over the last TREND_DAYS days, as a line and in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from babel.dates import format_skeleton

from bot.core.content import Question
from bot.core.i18n import (
    _,
    current_language,
    current_locale,
    format_number,
    format_share,
    ngettext,
)
from bot.digests.drawing.style import TREND_DAYS
from bot.insights.intervals import read_lead
from bot.insights.results_text import signed_points
from bot.report.charts import day_bars, trend_line
from bot.report.history import Day
from bot.report.layout import text
from storage.polls import QuestionTally


def short_date(day: date) -> str:
    """ "2 déc." / "2 Dec"."""
    return str(format_skeleton("MMMd", day, locale=current_locale()))


def _count(value: int | None) -> str:
    return "—" if value is None else format_number(value)


def _chart(
    caption: str, values: list[int | None], days: list[Day], each: Callable[[int], str]
) -> str:
    labels = [
        _("{day}: {figure}").format(
            day=short_date(day.day), figure=_("not recorded") if value is None else each(value)
        )
        for day, value in zip(days, values, strict=True)
    ]
    axis = (
        f'<div class="axis"><small>{text(short_date(days[0].day))}</small>'
        f"<small>{text(short_date(days[-1].day))}</small></div>"
    )
    return (
        f"<figure><figcaption>{text(caption)}</figcaption>"
        f"{day_bars(values, labels, caption)}{axis}</figure>"
    )


def _new_voters(count: int) -> str:
    return ngettext("{count} new voter", "{count} new voters", count).format(
        count=format_number(count)
    )


def _written(count: int) -> str:
    return ngettext("{count} opinion written", "{count} opinions written", count).format(
        count=format_number(count)
    )


def days_block(days: list[Day]) -> str:
    """The last days' new voters and opinions, as two small charts and a table (newest
    first); nothing before the article's first votes and opinions."""
    if not days:
        return ""
    charts = _chart(
        _("New voters per day"), [d.new_voters for d in days], days, _new_voters
    ) + _chart(_("Opinions written per day"), [d.opinions for d in days], days, _written)
    day, figures = _("Day"), _("The figures per day")
    head = f'<th scope="col">{text(day)}</th>' + "".join(
        f'<th scope="col" class="n">{text(label)}</th>'
        for label in (_("New voters"), _("Voters"), _("Opinions"))
    )
    rows = "".join(
        f'<tr><td>{text(short_date(d.day))}</td><td class="n">{_count(d.new_voters)}</td>'
        f'<td class="n">{_count(d.voters)}</td><td class="n">{format_number(d.opinions)}</td>'
        "</tr>"
        for d in reversed(days)
    )
    note = text(
        _("Voters: those of the most answered question at the end of the day (today: now).")
    )
    return (
        f'<section class="card days">{charts}<details><summary>'
        f"{text(figures)}</summary><table><thead><tr>{head}</tr></thead>"
        f'<tbody>{rows}</tbody></table><p class="muted"><small>{note}</small></p>'
        "</details></section>"
    )


def trend_block(
    question: Question, tally: QuestionTally, ends: list[tuple[date, QuestionTally]]
) -> str:
    """The share of today's most chosen option at the end of each of the last TREND_DAYS
    days (as the digest's curve), when two days or more are known."""
    leader = read_lead(tally.voters, tally.votes, question.option_count).first
    if leader is None or not ends:
        return ""
    today = ends[-1][0]
    known = [(day, then.share(leader)) for day, then in ends if then.voters]
    if len(known) < 2:
        return ""
    (first_day, before), (_today, now) = known[0], known[-1]
    points = [((day - today).days, share) for day, share in known]
    change = (now - before) * 100
    option = question.options[current_language()][leader]
    words = _("“{option}”: {before} on {day}, {now} today ({change}).").format(
        option=option,
        before=format_share(before),
        day=short_date(first_day),
        now=format_share(now),
        change=signed_points(change),
    )
    label = _("Curve: the share of today's most chosen option over the last {days} days.").format(
        days=format_number(TREND_DAYS)
    )
    return (
        f'<div class="trend-row">{trend_line(points, TREND_DAYS, label)}'
        f"<p><small>{text(words)}</small></p></div>"
    )
