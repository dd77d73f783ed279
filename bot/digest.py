"""The daily digest's content: numbers from the tallies, text blocks, chart data.

Pure functions of the numbers (no I/O), so what a digest says is easy to test; the numbers
are stored with each digest so the next one can show what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from bot.chart import TREND_DAYS, ChartLabels, ChartQuestion, render_chart
from bot.commands import ARTICLE, POLL, RESULTS
from bot.content import NEUTRAL_OPTION, Article, Question
from bot.formatting import bar, escape, voters_text
from bot.i18n import (
    _,
    current_language,
    format_long_date,
    format_number,
    format_share,
    ngettext,
    using_language,
)
from bot.insights import Reading, read_lead
from bot.verdicts import confidence, verdict
from storage.queries import QuestionTally

LEADING_OPTIONS = 3
EXCERPT_LENGTH = 120
EXCERPTS = 2
CAPTION_LIMIT = 1024

# {"chat": {key: {"voters": n, "votes": {"0": c}}}, "all": {...}, "last_opinion": id}
Numbers = dict[str, Any]
LAST_OPINION = "last_opinion"  # the newest opinion a digest counted


def to_numbers(chat: dict[str, QuestionTally], everywhere: dict[str, QuestionTally]) -> Numbers:
    """The digest's numbers in a JSON-friendly shape."""

    def scope(tallies: dict[str, QuestionTally]) -> dict[str, Any]:
        return {
            key: {"voters": t.voters, "votes": {str(i): v for i, v in t.votes.items()}}
            for key, t in tallies.items()
        }

    return {"chat": scope(chat), "all": scope(everywhere)}


def read_tally(numbers: Numbers | None, scope: str, key: str) -> QuestionTally | None:
    """One question's counts as a stored digest recorded them (`to_numbers`), if there."""
    if not numbers or key not in numbers.get(scope, {}):
        return None
    entry = numbers[scope][key]
    return QuestionTally(int(entry["voters"]), {int(i): int(v) for i, v in entry["votes"].items()})


def has_votes(numbers: Numbers) -> bool:
    return any(entry["voters"] for entry in numbers["chat"].values())


def signed_points(points: float) -> str:
    """A change in percentage points: "+2,1 pts" / "+2.1 pts"."""
    language = current_language()
    value = format_decimal(round(points, 1), format="+#,##0.0;-#,##0.0", locale=language)
    # The language's plural rule for a number shown with one decimal: "1,5 pt" in French,
    # but "1.0 pts" in English, where only a bare 1 is singular.
    one = Locale.parse(language).plural_form(Decimal(f"{abs(points):.1f}")) == "one"
    return ngettext("{value} pt", "{value} pts", 1 if one else 2).format(value=value)


def voters_change(now: QuestionTally, before: QuestionTally | None) -> str:
    voters = voters_text(now.voters)
    if before is None or now.voters == before.voters:
        return voters  # no "+0"
    return _("{voters} ({change} since the last digest)").format(
        voters=voters, change=format_decimal(now.voters - before.voters, format="+#,##0;-#,##0",
                                             locale=current_language())
    )


def leader_line(question: Question, now: QuestionTally, before: QuestionTally | None) -> str:
    """Who leads, if the margin of error allows naming a leader, with its change in points."""
    ranking = now.ranking()
    if not ranking:
        return ""
    shift = ""
    if before is not None and before.voters:
        leader = ranking[0]
        change = (now.share(leader) - before.share(leader)) * 100
        if round(change, 1):  # no "+0.0 pt"
            shift = f" ({signed_points(change)})"
    return verdict(question, now, shift)


def question_block(
    number: int, question: Question, numbers: Numbers, previous: Numbers | None, private: bool
) -> str:
    language = current_language()
    here = read_tally(numbers, "chat", question.key) or QuestionTally()
    everywhere = read_tally(numbers, "all", question.key) or QuestionTally()
    scope = _("This chat") if private else _("This group")
    lines = [
        f"<b>{number}. {escape(question.text[language])}</b>",
        _("{scope}: {voters}").format(
            scope=scope, voters=voters_change(here, read_tally(previous, "chat", question.key))
        ),
    ]
    for index in here.ranking()[:LEADING_OPTIONS]:
        share, count = here.share(index), format_number(here.votes[index])
        option = escape(question.options[language][index])
        lines.append(f"<code>{bar(share)}</code> {format_share(share)} ({count}) {option}")
    if here.voters:
        lines.append(leader_line(question, here, read_tally(previous, "chat", question.key)))
    lines.append(
        "<i>{}</i>".format(
            _("{scope}: {voters}").format(
                scope=_("All chats"),
                voters=voters_change(everywhere, read_tally(previous, "all", question.key)),
            )
        )
    )
    if everywhere.voters:
        lines.append(
            "<i>{}</i>".format(
                leader_line(question, everywhere, read_tally(previous, "all", question.key))
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class OpinionNews:
    """Opinions posted since the previous digest (or ever, for a first digest)."""

    count: int
    excerpts: list[tuple[str, str]]  # (author, text), newest first
    since_previous: bool


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """The start of a text, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(",;:.!?") + "…"


def opinions_block(news: OpinionNews) -> str | None:
    if not news.count:
        return None
    count = format_number(news.count)
    if news.since_previous:
        head = ngettext(
            "{count} new opinion since the last digest",
            "{count} new opinions since the last digest",
            news.count,
        )
    else:
        head = ngettext("{count} opinion so far", "{count} opinions so far", news.count)
    lines = ["💬 " + head.format(count=count)]
    for author, text in news.excerpts:
        lines.append(
            _("“{excerpt}” — {author}").format(excerpt=escape(excerpt(text)), author=escape(author))
        )
    return "\n".join(lines)


def digest_blocks(
    article: Article,
    numbers: Numbers,
    previous: Numbers | None,
    day: date,
    private: bool,
    news: OpinionNews | None = None,
    newer: Article | None = None,
) -> list[str]:
    """The digest's text, as blocks that `split_blocks` can pack into messages: it names the
    chat's article, and says so when a newer one (`newer`) is available."""
    language = current_language()
    heading = "🗞 <b>{}</b>\n{}".format(
        escape(_("Digest of {date}").format(date=format_long_date(day))),
        escape(article.title[language]),
    )
    if newer is not None:
        heading += "\n" + _(
            "A newer article is available: “{title}”. To discuss it: /{article} {latest}"
        ).format(
            title=escape(newer.title[language]),
            article=ARTICLE.name(language),
            latest=_("latest"),
        )
    opinions = opinions_block(news) if news is not None else None
    if not has_votes(numbers):
        invitation = _(
            "No answers yet. Post the polls with /{poll} and invite everyone to vote."
        ).format(poll=POLL.name(language))
        return [heading, invitation] + ([opinions] if opinions else [])
    blocks = [heading]
    blocks += [
        question_block(number, question, numbers, previous, private)
        for number, question in enumerate(article.questions, 1)
    ]
    if opinions:
        blocks.append(opinions)
    blocks.append(_("Full results: /{results}").format(results=RESULTS.name(language)))
    return blocks


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


def chart_labels(title: str, day: date, private: bool) -> ChartLabels:
    """Translated words of the chart, bound to the current language now: the chart is drawn
    in another process, where the language is not the chat's. Partials of module functions
    (not closures) so that they can be pickled there."""
    language = current_language()
    scope = _("Results of this chat — {date}") if private else _("Results of this group — {date}")
    subtitle = scope.format(date=format_long_date(day))
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
    private: bool,
    history: Sequence[tuple[date, Numbers]] = (),
) -> dict[str, Any]:
    """The chart as JSON, stored in the outbox and drawn (`draw_chart`) just before sending;
    `history`: the day and numbers of the chat's digests of the last days, for the trends."""
    return {
        "language": current_language(),
        "day": day.isoformat(),
        "private": private,
        "title": article.title[current_language()],
        "questions": [
            asdict(question) for question in chart_questions(article, numbers, day, history)
        ],
    }


def draw_chart(spec: dict[str, Any]) -> list[bytes]:
    """The PNG pages of a chart described by `chart_spec` (one photo, or an album)."""
    with using_language(spec["language"]):
        labels = chart_labels(
            spec.get("title", ""), date.fromisoformat(spec["day"]), spec["private"]
        )
    return render_chart([ChartQuestion(**question) for question in spec["questions"]], labels)


def caption(day: date, private: bool) -> str:
    text = _("Results of this chat on {date}") if private else _("Results of this group on {date}")
    return text.format(date=format_long_date(day))[:CAPTION_LIMIT]
