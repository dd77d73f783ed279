"""CSV files for spreadsheets: cells that cannot turn into formulas, and a size cap.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a
spreadsheet (OWASP "CSV injection"): a voter who calls himself `=HYPERLINK(...)` would run
it on the computer of the administrator who opens the export. Such cells get a leading
apostrophe, which spreadsheets read as "this is text"; the rest of the text is kept as typed.

`chat_export` builds a chat's file: the results of the article's questions, its opinions,
then the named answers.

The file is built whole in memory and travels through the outbox, so it is capped (see
`LIMIT`): rows are added in order until the next one would pass the cap, leaving room for a
closing note that says what was left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Article
from bot.core.i18n import _, current_language, format_number, ngettext
from bot.core.localtime import spreadsheet_moment
from storage.closes import get_close
from storage.opinions import chat_ballots, chat_opinions, count_ballots, count_opinions
from storage.polls import round_results

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LIMIT = 10 * 1024 * 1024  # bytes of one export (Telegram takes documents up to 50 MB)
NOTE_ROOM = 4096  # bytes kept free under the cap for the closing note
BOM = "\ufeff".encode()  # so that spreadsheets read UTF-8 accents

Cell = str | int


def inert(cell: Cell) -> Cell:
    """The cell as a spreadsheet should show it: as text, never as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


class CsvFile:
    """A CSV file (UTF-8 with a byte-order mark, CRLF line ends) of at most `limit` bytes."""

    def __init__(self, delimiter: str, limit: int | None = None) -> None:
        self.limit = LIMIT if limit is None else limit
        self.full = False  # a row was refused: the file is incomplete
        self._data = bytearray(BOM)
        self._line = io.StringIO()
        self._writer = csv.writer(self._line, delimiter=delimiter, lineterminator="\r\n")

    def _encode(self, row: Sequence[Cell]) -> bytes:
        self._line.seek(0)
        self._line.truncate()
        self._writer.writerow([inert(cell) for cell in row])
        return self._line.getvalue().encode("utf-8")

    def add(self, row: Sequence[Cell]) -> bool:
        """Append a row if it fits under the cap (less the note's room); once one does not,
        no other row is added and False is returned."""
        if self.full:
            return False
        line = self._encode(row)
        if len(self._data) + len(line) > self.limit - NOTE_ROOM:
            self.full = True
            return False
        self._data += line
        return True

    def finish(self, note: Sequence[Cell] | None = None) -> bytes:
        """The file's content, ending with the `note` row if one is given."""
        if note is not None:
            self._data += self._encode(note)  # a few hundred bytes: it fits in NOTE_ROOM
        return bytes(self._data)


@dataclass(frozen=True, slots=True)
class Export:
    content: bytes
    filename: str
    caption: str


class _Scope:
    """What an export reads: a chat's rows on an article, dates in the chat's time zone."""

    def __init__(
        self, session: AsyncSession, article: Article, chat_id: int, zone: ZoneInfo
    ) -> None:
        self.session, self.article, self.chat_id, self.zone = session, article, chat_id, zone
        self.keys = [q.key for q in article.questions]
        self._numbers = {key: n for n, key in enumerate(self.keys, 1)}

    def number(self, key: str) -> int:
        """A question's number, from 1."""
        return self._numbers[key]


COLUMNS = (
    "type", "number", "question", "option", "votes", "voters", "author", "date", "text",
    "round", "agree", "disagree", "passed",
)


def _heading() -> list[Cell]:
    return [
        _("type"), _("number"), _("question"), _("option"), _("votes"), _("voters"),
        _("author"), _("date"), _("text"), _("round"), _("agree"), _("disagree"), _("pass"),
    ]


def _row(**cells: Cell) -> list[Cell]:
    """A row with the `cells` named by COLUMNS, the others empty."""
    return [cells.get(column, "") for column in COLUMNS]


async def _results(scope: _Scope, table: CsvFile) -> None:
    """A row per option of each question, with its votes and its question's voters, round
    by round (each round's votes are its own)."""
    language, session, article = current_language(), scope.session, scope.article
    close = await get_close(session, scope.chat_id, article.id)
    for round_number in range(1, (close.round if close is not None else 1) + 1):
        tallies = await round_results(session, article.id, scope.chat_id, round_number)
        for question in article.questions:
            tally = tallies.get(question.key)
            for index, option in enumerate(question.options[language]):
                table.add(
                    _row(
                        type=_("result"),
                        number=scope.number(question.key),
                        question=question.text[language],
                        option=option,
                        votes=tally.votes.get(index, 0) if tally else 0,
                        voters=tally.voters if tally else 0,
                        round=round_number,
                    )
                )


async def _opinions(scope: _Scope, table: CsvFile) -> int:
    """A row per opinion, while the file has room; how many went in."""
    language, article, added = current_language(), scope.article, 0
    async with aclosing(chat_opinions(scope.session, scope.chat_id, article.id)) as listed:
        async for opinion in listed:
            about = article.question(opinion.question_key) if opinion.question_key else None
            # Its ratings as counts only: never who rated what.
            row = _row(
                type=_("opinion"),
                number=scope.number(about.key) if about else "",
                question=about.text[language] if about else _("On the article"),
                author=opinion.author,
                date=spreadsheet_moment(opinion.created_at, scope.zone),
                text=opinion.text,
                agree=opinion.agreed,
                disagree=opinion.disagreed,
                passed=opinion.passed,
            )
            if not table.add(row):
                break
            added += 1
    return added


async def _answers(scope: _Scope, table: CsvFile) -> int:
    """A row per named answer, while the file has room; how many went in."""
    language, article, added = current_language(), scope.article, 0
    ballots = chat_ballots(scope.session, scope.chat_id, article.id, scope.keys)
    async with aclosing(ballots) as listed:
        async for ballot in listed:
            asked = article.question(ballot.question_key)
            assert asked is not None  # only the article's questions are read
            row = _row(
                type=_("answer"),
                number=scope.number(asked.key),
                question=asked.text[language],
                option=" | ".join(asked.options[language][i] for i in ballot.options),
                author=ballot.voter_name or "",
                date=spreadsheet_moment(ballot.answered_at, scope.zone),
                round=ballot.round,
            )
            if not table.add(row):
                break
            added += 1
    return added


async def _left_out(scope: _Scope, table: CsvFile, answers: int, opinions: int) -> str:
    """What a capped file says it leaves out."""
    session, chat_id, article_id = scope.session, scope.chat_id, scope.article.id
    left_answers = max(0, await count_ballots(session, chat_id, article_id, scope.keys) - answers)
    left_opinions = max(0, await count_opinions(session, chat_id, article_id) - opinions)
    return _(
        "Incomplete file: an export stops at {size} MB; {answers} and {opinions} are not "
        "included."
    ).format(
        size=format_number(table.limit / 1024 / 1024),
        answers=ngettext("{count} answer", "{count} answers", left_answers).format(
            count=format_number(left_answers)
        ),
        opinions=ngettext("{count} opinion", "{count} opinions", left_opinions).format(
            count=format_number(left_opinions)
        ),
    )


async def chat_export(
    session: AsyncSession, article: Article, chat_id: int, zone: ZoneInfo
) -> Export:
    """The chat's results, opinions and named answers on `article`, as a CSV file in the
    current language, dates in the chat's time zone."""
    language = current_language()
    scope = _Scope(session, article, chat_id, zone)
    # What spreadsheets expect in each locale; the file is capped (see bot.discussion.export).
    table = CsvFile(";" if language == "fr" else ",")
    table.add(_heading())
    await _results(scope, table)
    # Opinions before the named answers: under the cap, what is cut is the bulk whose counts
    # the result rows already give.
    opinions = await _opinions(scope, table)
    answers = 0 if table.full else await _answers(scope, table)
    caption = _("Results and opinions — {title}").format(title=article.title[language])
    note: list[Cell] | None = None
    if table.full:
        cut = await _left_out(scope, table, answers, opinions)
        note = _row(type=_("note"), text=cut)
        caption += "\n" + cut
    day = datetime.now(UTC).astimezone(zone).date()
    return Export(
        table.finish(note), f"agora-{article.id}-{day.isoformat()}.csv", caption
    )
