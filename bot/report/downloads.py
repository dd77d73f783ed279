"""The report's CSV file: each option's votes, share and 95 % interval in all chats, then
each chat's participation, under the same rules as /export (bot.discussion.export: cells
that cannot turn into formulas, UTF-8 with a byte-order mark, the locale's delimiter, a cap)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.i18n import _, current_language
from bot.core.localtime import spreadsheet_moment
from bot.discussion.export import Cell, CsvFile, Export
from bot.insights.intervals import wilson
from bot.report.figures import ChatOrder, Figures
from storage.models import as_utc
from storage.polls import QuestionTally


def _share(value: float) -> str:
    """A share as a spreadsheet reads it in the locale: "0,379" / "0.379"."""
    written = f"{value:.4f}"
    return written.replace(".", ",") if current_language() == "fr" else written


def _results(figures: Figures, table: CsvFile) -> None:
    language = current_language()
    for number, question in enumerate(figures.article.questions, 1):
        tally = figures.results.get(question.key) or QuestionTally()
        for index, option in enumerate(question.options[language]):
            votes = tally.votes.get(index, 0)
            low, high = wilson(votes, tally.voters)
            table.add(
                [
                    _("result"), number, question.text[language], option, votes, tally.voters,
                    _share(tally.share(index)), _share(low), _share(high), "", "", "",
                ]
            )


def report_csv(figures: Figures, zone: ZoneInfo, now: datetime) -> Export:
    """The article's results in all chats and every chat's participation, as CSV."""
    language = current_language()
    table = CsvFile(";" if language == "fr" else ",")
    table.add(
        [
            _("type"), _("number"), _("question"), _("option"), _("votes"), _("voters"),
            _("share"), _("lower bound"), _("upper bound"), _("chat"), _("opinions"),
            _("last activity"),
        ]
    )
    _results(figures, table)
    for chat in figures.sorted_chats(ChatOrder.VOTERS):
        when = spreadsheet_moment(as_utc(chat.last_activity), zone) if chat.last_activity else ""
        title = chat.title if chat.title is not None else _("A private chat")
        row: list[Cell] = [
            _("chat"), "", "", "", "", chat.voters, "", "", "", title, chat.opinions, when
        ]
        if not table.add(row):
            break
    note: list[Cell] | None = None
    if table.full:
        note = [_("note"), "", "", "", "", "", "", "", "", _("Incomplete file: too many chats."),
                "", ""]
    day = now.astimezone(zone).date().isoformat()
    return Export(table.finish(note), f"agora-report-{figures.article.id}-{day}.csv", "")
