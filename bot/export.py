"""CSV files for spreadsheets: cells that cannot turn into formulas, and a size cap.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to a
spreadsheet (OWASP "CSV injection"): a voter who calls himself `=HYPERLINK(...)` would run
it on the computer of the administrator who opens the export. Such cells get a leading
apostrophe, which spreadsheets read as "this is text"; the rest of the text is kept as typed.

The file is built whole in memory and travels through the outbox, so it is capped (see
`LIMIT`): rows are added in order until the next one would pass the cap, leaving room for a
closing note that says what was left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

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
