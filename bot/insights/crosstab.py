"""Cross-tabulation of two questions: for each answer to A, how the same people answered B,
which cells to hide so that nobody's answer can be deduced, and the strongest link.

Pure functions of counts; the counts come from `storage.insights.answer_pairs`, one row per
distinct pair of answers (so nothing here grows with the number of voters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.insights.intervals import Z95, proportion_z

PRIVACY_THRESHOLD = 3  # in groups, fewer people than this in a cell are shown as "< 3"


@dataclass(slots=True)
class CrossTab:
    """Counts among the people who answered both questions (multiple answers count in each
    of their options)."""

    rows: int
    columns: int
    both: int = 0  # people who answered both questions
    row_totals: list[int] = field(default_factory=list)  # chose option i of A
    column_totals: list[int] = field(default_factory=list)  # chose option j of B
    cells: list[list[int]] = field(default_factory=list)  # chose i of A and j of B

    @classmethod
    def of(
        cls, pairs: Iterable[tuple[list[int], list[int], int]], rows: int, columns: int
    ) -> CrossTab:
        """From (options chosen in A, options chosen in B, how many people) rows."""
        cells = [[0] * columns for _ in range(rows)]
        table = cls(rows, columns, 0, [0] * rows, [0] * columns, cells)
        for chosen_a, chosen_b, count in pairs:
            a = sorted({i for i in chosen_a if 0 <= i < rows})
            b = sorted({j for j in chosen_b if 0 <= j < columns})
            if not a or not b:
                continue
            table.both += count
            for i in a:
                table.row_totals[i] += count
                for j in b:
                    table.cells[i][j] += count
            for j in b:
                table.column_totals[j] += count
        return table

    def share(self, i: int, j: int) -> float:
        return self.cells[i][j] / self.row_totals[i] if self.row_totals[i] else 0.0


@dataclass(frozen=True, slots=True)
class Masked:
    """What may be shown: hidden rows (fewer than 3 people chose that answer to A), cells
    under 3 and cells hidden with them so that a row's sum does not give them away."""

    hidden_rows: frozenset[int]
    small: frozenset[tuple[int, int]]  # shown as "< 3"
    companions: frozenset[tuple[int, int]]  # 3 or more, hidden so that a small one stays so

    def hidden(self, i: int, j: int) -> bool:
        return i in self.hidden_rows or (i, j) in self.small or (i, j) in self.companions


def mask(table: CrossTab, single_answer_b: bool, threshold: int = PRIVACY_THRESHOLD) -> Masked:
    """Cells of 1 or 2 people are hidden. When B takes one answer each, a row's cells add up
    to its total: a row with a single hidden cell would give it away, so a second one is hidden
    with it (the smallest other, preferably one also under 3, which "< 3" describes truly)."""
    hidden_rows = frozenset(i for i in range(table.rows) if 0 < table.row_totals[i] < threshold)
    small: set[tuple[int, int]] = set()
    companions: set[tuple[int, int]] = set()
    for i in range(table.rows):
        if i in hidden_rows or not table.row_totals[i]:
            continue
        row = table.cells[i]
        under = [j for j in range(table.columns) if 0 < row[j] < threshold]
        small.update((i, j) for j in under)
        if single_answer_b and len(under) == 1:
            rest = sorted((j for j in range(table.columns) if j not in under), key=lambda j: row[j])
            if rest:
                j = rest[0]
                (small if row[j] < threshold else companions).add((i, j))
    return Masked(hidden_rows, frozenset(small), frozenset(companions))


@dataclass(frozen=True, slots=True)
class Link:
    """Among those who chose `row` in A, `share` chose `column` in B, against `others`."""

    row: int
    column: int
    share: float
    others: float
    z: float


def strongest_link(table: CrossTab, masked: Masked | None) -> Link | None:
    """The largest difference between an answer's group and everyone else that a two-
    proportion test finds significant at 95 %; none if no difference is.

    With privacy (`masked`), only cells that are shown and whose "others" count is at least 3
    and cannot complete a hidden cell of the same column are used.
    """
    best: Link | None = None
    for i in range(table.rows):
        n1, n2 = table.row_totals[i], table.both - table.row_totals[i]
        if n1 <= 0 or n2 <= 0:
            continue
        for j in range(table.columns):
            c1 = table.cells[i][j]
            c2 = table.column_totals[j] - c1
            if masked is not None and (
                masked.hidden(i, j)
                or 0 < c2 < PRIVACY_THRESHOLD
                or any(masked.hidden(k, j) for k in range(table.rows) if k != i)
            ):
                continue
            z = proportion_z(c1, n1, c2, n2)
            if z is None or abs(z) < Z95:
                continue
            link = Link(i, j, c1 / n1, c2 / n2, z)
            if best is None or _strength(link) > _strength(best):
                best = link
    return best


def _strength(link: Link) -> tuple[float, bool]:
    """The larger difference wins; at equal differences, "more often" reads better than
    "less often"."""
    return round(abs(link.share - link.others), 9), link.share > link.others
