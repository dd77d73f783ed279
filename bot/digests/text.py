"""What a digest says: its numbers (from the tallies) and its text blocks.

Pure functions of the numbers (no I/O), so what a digest says is easy to test; the numbers
are stored with each digest so the next one can show what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.core.commands import ARTICLE, RESULTS
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import (
    _,
    current_language,
    format_long_date,
    format_number,
    ngettext,
)
from bot.insights.results_text import Standing, changes_note, no_answers_yet, question_block
from storage.polls import QuestionTally

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


def standings(article: Article, numbers: Numbers, previous: Numbers | None) -> dict[str, Standing]:
    """Each question's standing (bot.insights.results_text) from a digest's numbers and the previous
    digest's."""
    empty = QuestionTally()
    return {
        question.key: Standing(
            read_tally(numbers, "chat", question.key) or empty,
            read_tally(numbers, "all", question.key) or empty,
            read_tally(previous, "chat", question.key),
            read_tally(previous, "all", question.key),
        )
        for question in article.questions
    }


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
        return [heading, no_answers_yet()] + ([opinions] if opinions else [])
    if previous is not None:
        heading += "\n" + changes_note(None)
    by_question = standings(article, numbers, previous)
    blocks = [heading]
    blocks += [
        question_block(number, question, by_question[question.key], private, False)
        for number, question in enumerate(article.questions, 1)
    ]
    if opinions:
        blocks.append(opinions)
    blocks.append(_("Full results: /{results}").format(results=RESULTS.name(language)))
    return blocks
