"""What a digest says: its numbers (from the tallies) and its text blocks.

Pure functions of the numbers (no I/O), so what a digest says is easy to test; the numbers
are stored with each digest so the next one (and /results) can show what changed. Their JSON
shape is known here only: `to_numbers` writes it, `recorded` and `read_tally` read it back
into typed tallies (bot.insights.standings).
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
from bot.insights.results_text import changes_note, here_label, no_answers_yet, question_block
from bot.insights.standings import Tallies, standings
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


def _tally(entry: dict[str, Any]) -> QuestionTally:
    return QuestionTally(int(entry["voters"]), {int(i): int(v) for i, v in entry["votes"].items()})


def read_tally(numbers: Numbers | None, scope: str, key: str) -> QuestionTally | None:
    """One question's counts as a stored digest recorded them (`to_numbers`), if there."""
    if not numbers or key not in numbers.get(scope, {}):
        return None
    return _tally(numbers[scope][key])


def recorded(numbers: Numbers) -> Tallies:
    """All the counts a stored digest recorded (`to_numbers`), typed."""
    return Tallies(
        {key: _tally(entry) for key, entry in numbers.get("chat", {}).items()},
        {key: _tally(entry) for key, entry in numbers.get("all", {}).items()},
    )


def has_votes(numbers: Numbers) -> bool:
    return any(entry["voters"] for entry in numbers["chat"].values())


STANDOUT_RATERS = 5  # raters an opinion needs before a digest names it as a standout


@dataclass(frozen=True, slots=True)
class Rated:
    """An opinion's text and how its raters rated it."""

    text: str
    agreed: int
    disagreed: int
    passed: int


@dataclass(frozen=True, slots=True)
class OpinionNews:
    """Opinions posted since the previous digest (or ever, for a first digest), and the
    standouts among all the chat's opinions on the article (`standouts`)."""

    count: int
    excerpts: list[tuple[str, str]]  # (author, text), newest first
    since_previous: bool
    broadest: Rated | None = None
    divisive: Rated | None = None


def standouts(rated: list[Rated]) -> tuple[Rated | None, Rated | None]:
    """Of opinions rated by STANDOUT_RATERS people or more: the one with the broadest
    agreement (the highest share of its raters agreeing, over half), and the most divisive
    (agree and disagree closest to even among those who took a side, each a third or more),
    another one; the earlier wins a tie."""
    broad = [r for r in rated if r.agreed * 2 > r.agreed + r.disagreed + r.passed]
    broadest = max(
        broad, key=lambda r: r.agreed / (r.agreed + r.disagreed + r.passed), default=None
    )
    split = [
        r for r in rated
        if r is not broadest and 3 * min(r.agreed, r.disagreed) >= r.agreed + r.disagreed > 0
    ]
    divisive = max(
        split, key=lambda r: min(r.agreed, r.disagreed) / (r.agreed + r.disagreed), default=None
    )
    return broadest, divisive


def agreement(agreed: int, disagreed: int, passed: int) -> str:
    """"👍 12 · 👎 3 · 5 passed"."""
    return _("👍 {agreed} · 👎 {disagreed} · {passed} passed").format(
        agreed=format_number(agreed),
        disagreed=format_number(disagreed),
        passed=format_number(passed),
    )


def standout_lines(news: OpinionNews) -> list[str]:
    """The standouts among the rated opinions, when there are."""
    lines = []
    labels = (_("🤝 Broadest agreement"), _("⚖️ Most divisive"))
    for label, rated in zip(labels, (news.broadest, news.divisive), strict=True):
        if rated is not None:
            lines.append(
                _("{label}: “{excerpt}” ({counts})").format(
                    label=label,
                    excerpt=escape(excerpt(rated.text)),
                    counts=agreement(rated.agreed, rated.disagreed, rated.passed),
                )
            )
    return lines


def excerpt(text: str, limit: int = EXCERPT_LENGTH) -> str:
    """The start of a text, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(",;:.!?") + "…"


def opinions_block(news: OpinionNews) -> str | None:
    lines = _news_lines(news) + standout_lines(news)
    return "\n".join(lines) if lines else None


def _news_lines(news: OpinionNews) -> list[str]:
    if not news.count:
        return []
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
    return lines


def digest_blocks(
    article: Article,
    numbers: Numbers,
    previous: Numbers | None,
    day: date,
    chat_type: str,
    news: OpinionNews | None = None,
    newer: Article | None = None,
    closing: str | None = None,
) -> list[str]:
    """The digest's text, as blocks that `split_blocks` can pack into messages: it names the
    chat's article, says what of its polls' close (`closing`, bot.insights.closing_text), and
    says so when a newer article (`newer`) is available."""
    language = current_language()
    heading = "🗞 <b>{}</b>\n{}".format(
        escape(_("Digest of {date}").format(date=format_long_date(day))),
        escape(article.title[language]),
    )
    if closing:
        heading += "\n" + closing
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
    earlier = recorded(previous) if previous is not None else None
    by_question = standings(article, recorded(numbers), earlier)
    here = here_label(chat_type)
    blocks = [heading]
    blocks += [
        question_block(number, question, by_question[question.key], here, False)
        for number, question in enumerate(article.questions, 1)
    ]
    if opinions:
        blocks.append(opinions)
    blocks.append(_("Full results: /{results}").format(results=RESULTS.name(language)))
    return blocks


def hidden_digest_blocks(day: date, hidden: list[str], news: OpinionNews | None) -> list[str]:
    """The digest of a chat whose results are hidden until the close: its heading, how many
    answered (`hidden`, bot.insights.closing_text.hidden_blocks), and the opinions."""
    heading = "🗞 <b>{}</b>".format(escape(_("Digest of {date}").format(date=format_long_date(day))))
    opinions = opinions_block(news) if news is not None else None
    return [heading, *hidden] + ([opinions] if opinions else [])
