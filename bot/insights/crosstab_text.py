"""How a cross-tab reads in /crosstab: which two questions it was asked for (or why it
cannot be), the legend of both, the table (at most 32 columns, cells too small for privacy
hidden: bot.insights.crosstab.mask) and the strongest link, told without overclaiming."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.core.arguments import number
from bot.core.commands import CROSSTAB, POLL, RESULTS
from bot.core.content import Article, Question
from bot.core.formatting import bar, escape, voters_text
from bot.core.i18n import _, current_language, format_number, format_share, ngettext
from bot.core.refusals import Refusal, Unclear
from bot.insights.crosstab import PRIVACY_THRESHOLD, CrossTab, Masked, mask, strongest_link
from bot.insights.intervals import SMALL_SAMPLE

EXAMPLE = "2 4"
CELL_BAR = 8  # segments: a row of the table stays within 32 columns
SMALL_MARK = f"< {PRIVACY_THRESHOLD}"
COMPANION_MARK = "*"


def example() -> str:
    return f"/{CROSSTAB.name(current_language())} {EXAMPLE}"


def usage() -> str:
    return _(
        "Give the numbers of two questions, as in /{results}: for example {example}."
    ).format(results=RESULTS.name(current_language()), example=example())


def question_numbers(article: Article, words: list[str]) -> tuple[int, int]:
    """The two question numbers (from 1) /crosstab is given; Unclear when they are not
    usable."""
    if len(words) != 2:
        raise Unclear(usage())
    numbers = [number(word) for word in words]
    count = len(article.questions)
    for word, found in zip(words, numbers, strict=True):
        if found is None:
            raise Unclear(usage())
        if not 1 <= found <= count:
            raise Unclear(
                _(
                    "There is no question {number}: they go from 1 to {count}. For example "
                    "{example}."
                ).format(number=escape(word[:20]), count=count, example=example())
            )
    first, second = numbers
    assert first is not None
    assert second is not None
    if first == second:
        raise Unclear(
            _("Choose two different questions: for example {example}.").format(
                example=example()
            )
        )
    return first, second


class Uncrossable(Refusal):
    """A question (`number`, from 1) whose answers cannot be crossed with another's."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


class NotAsked(Uncrossable):
    """A question to cross that was not posted as a poll in the chat."""

    def text(self, zone: ZoneInfo) -> str:
        return _(
            "Question {number} has not been asked here yet: post the polls with /{poll}."
        ).format(number=self.number, poll=POLL.name(current_language()))


class AskedAnonymously(Uncrossable):
    """A question to cross that was asked in an anonymous poll: only its totals are known."""

    def text(self, zone: ZoneInfo) -> str:
        return _(
            "Question {number} was asked in an anonymous poll: only its totals are "
            "known, so its answers cannot be crossed with others. Cross two questions "
            "asked by name, for example {example}."
        ).format(number=self.number, example=example())


def nobody_crossed() -> str:
    return _("Nobody has answered both questions yet.")


def legend(letter: str, number: int, question: Question) -> str:
    language = current_language()
    lines = [f"<b>{letter} = {number}.</b> {escape(question.text[language])}"]
    lines += [
        f"<code>{letter}{index}</code> {escape(option)}"
        for index, option in enumerate(question.options[language], 1)
    ]
    return "\n".join(lines)


def table_text(table: CrossTab, masked: Masked | None) -> str:
    """The monospace table: for each answer to A, its people's answers to B (at most 32
    columns, so that it fits a phone screen without wrapping)."""
    shares = [
        format_share(table.share(i, j)) for i in range(table.rows) for j in range(table.columns)
    ]
    counts = [format_number(c) for row in table.cells for c in row]
    share_width = max(len(s) for s in [*shares, SMALL_MARK])
    count_width = max(len(c) for c in counts)
    label_width = len(f"B{table.columns}")
    lines: list[str] = []
    for i in range(table.rows):
        total = table.row_totals[i]
        if masked is not None and i in masked.hidden_rows:
            lines.append(f"A{i + 1} · {SMALL_MARK}")
            continue
        lines.append(f"A{i + 1} · {voters_text(total)}")
        if not total:
            continue
        for j in range(table.columns):
            label = f"B{j + 1}".ljust(label_width)
            if masked is not None and masked.hidden(i, j):
                mark = COMPANION_MARK if (i, j) in masked.companions else SMALL_MARK
                lines.append(f" {label} {' ' * CELL_BAR} {mark.rjust(share_width)}")
                continue
            share = table.share(i, j)
            lines.append(
                f" {label} {bar(share, CELL_BAR)} {format_share(share).rjust(share_width)} "
                f"{format_number(table.cells[i][j]).rjust(count_width)}"
            )
    return "<pre>{}</pre>".format(escape("\n".join(lines)))


def link_text(
    table: CrossTab, masked: Masked | None, question_a: Question, question_b: Question
) -> str:
    language = current_language()
    if table.both < SMALL_SAMPLE:
        return ngettext(
            "Only {count} person answered both: too few to read much into.",
            "Only {count} people answered both: too few to read much into.",
            table.both,
        ).format(count=format_number(table.both))
    link = strongest_link(table, masked)
    if link is None:
        return _(
            "No clear link: every difference between the answers is within the margin of error."
        )
    return _(
        "Strongest link: among those who chose {a}, {share} chose {b}, against {others} of "
        "the others."
    ).format(
        a=_("“{text}”").format(text=escape(question_a.options[language][link.row])),
        b=_("“{text}”").format(text=escape(question_b.options[language][link.column])),
        share=format_share(link.share),
        others=format_share(link.others),
    )


def crosstab_blocks(
    article: Article, first: int, second: int, table: CrossTab, private: bool
) -> list[str]:
    question_a, question_b = article.questions[first - 1], article.questions[second - 1]
    masked = None if private else mask(table, single_answer_b=not question_b.multiple)
    heading = "📐 <b>{}</b>\n{}".format(
        escape(_("Questions {a} and {b} crossed").format(a=first, b=second)),
        ngettext(
            "{count} person answered both.", "{count} people answered both.", table.both
        ).format(count=format_number(table.both)),
    )
    blocks = [heading, legend("A", first, question_a), legend("B", second, question_b)]
    explanation = [_("For each answer to A, how the same people answered B: share and count.")]
    if question_b.multiple:
        explanation.append(_("Several answers allowed: shares add up to more than 100%."))
    blocks.append("<i>{}</i>\n{}".format(" ".join(explanation), table_text(table, masked)))
    notes = [link_text(table, masked, question_a, question_b)]
    if masked is not None and (masked.small or masked.hidden_rows):
        notes.append(
            "<i>{}</i>".format(
                _("{mark}: fewer than {count} people, hidden so that nobody's answer can be "
                  "deduced.").format(mark=escape(SMALL_MARK), count=PRIVACY_THRESHOLD)
            )
        )
    if masked is not None and masked.companions:
        notes.append(
            "<i>{}</i>".format(
                _("{mark}: hidden too, or the row's total would give away a hidden cell.").format(
                    mark=COMPANION_MARK
                )
            )
        )
    blocks.append("\n".join(notes))
    return blocks
