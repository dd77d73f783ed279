"""What a digest says: its numbers (from the tallies) and its text blocks.

Pure functions of the numbers (no I/O), so what a digest says is easy to test; the numbers
are stored with each digest so the next one can show what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from bot.commands import ARTICLE, POLL, RESULTS
from bot.content import Article, Question
from bot.formatting import bar, escape, voters_text
from bot.i18n import (
    _,
    current_language,
    format_long_date,
    format_number,
    format_share,
    ngettext,
)
from bot.verdicts import verdict
from storage.queries import QuestionTally

LEADING_OPTIONS = 3
EXCERPT_LENGTH = 120
EXCERPTS = 2

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
