"""What a chart shows, laid out: a question's results and the chart's words (given by the
digest, bot.digests.chart), made into panels of wrapped lines and bars measured in design
pixels, and the panels shared out between pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.digests.drawing.lettering import ASCENT, PT, Lettering, advance, block_height, wrap
from bot.digests.drawing.style import (
    BAR,
    BAR_GAP,
    BAR_HEIGHT,
    INK,
    INNER,
    LEADER,
    MARGIN,
    MAX_PAGES,
    MUTED,
    NEUTRAL,
    NEUTRAL_LEADER,
    NOTE_GAP,
    NOTE_SIZE,
    OPTION_SIZE,
    PANEL_GAP,
    QUESTION_SIZE,
    ROW_GAP,
    ROWS_GAP,
    SUBTITLE_SIZE,
    TEXT,
    TITLE_GAP,
    TITLE_SIZE,
    VALUE_GAP,
    VOTERS_GAP,
    VOTERS_SIZE,
    WIDTH,
)
from bot.insights.intervals import wilson


@dataclass(frozen=True, slots=True)
class ChartQuestion:
    """One question's results: labels in the chat's language, votes per option, voters."""

    text: str
    options: Sequence[str]
    votes: Sequence[int]
    voters: int
    multiple: bool = False  # several answers allowed: the shares can add up to over 100 %
    neutral: int | None = None  # the option that takes no side ("No opinion"): grey
    leader: int | None = None  # the option whose lead is clear (bot.insights.intervals): emphasised
    # (days before today, 0 today; the share then of the option leading today), oldest first
    trend: Sequence[Sequence[float]] = ()


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every word the chart shows, already translated for the chat."""

    title: str  # the article's
    subtitle: str  # whose results, and when
    no_votes: str
    voters: Callable[[int], str]
    share: Callable[[float, int], str]  # a share with so many decimals
    count: Callable[[int], str]
    multiple: str = ""  # after the voters of a multiple-answer question
    note: str = ""  # under the title: what the error bars mean
    trend_note: str = ""  # and the small curves, when there are any
    trend_span: str = ""  # before each curve: how many days it spans ("14 d")


@dataclass(frozen=True, slots=True)
class Header:
    title: list[str]
    subtitle: str
    note: list[str]  # the legend, on the first page
    span: str  # before each trend curve

    def height(self, first: bool) -> float:
        height = block_height(len(self.title), TITLE_SIZE) + TITLE_GAP
        height += block_height(1, SUBTITLE_SIZE)
        if self.note and first:
            height += NOTE_GAP + block_height(len(self.note), NOTE_SIZE)
        return height

    def draw(self, lettering: Lettering, page: str, first: bool) -> float:
        """Draw the header on top of a page ("2/3"); return where it ends."""
        y = float(MARGIN)
        lettering.lines(self.title, MARGIN, y, size=TITLE_SIZE, color=INK, width=INNER, bold=True)
        y += block_height(len(self.title), TITLE_SIZE) + TITLE_GAP
        baseline = y + ASCENT * SUBTITLE_SIZE * PT
        room = float(INNER)
        if page:
            room -= VALUE_GAP + lettering.line(
                page, WIDTH - MARGIN, baseline, size=SUBTITLE_SIZE, color=TEXT, bold=True,
                right=True,
            )
        lettering.line(self.subtitle, MARGIN, baseline, size=SUBTITLE_SIZE, color=TEXT, width=room)
        y += block_height(1, SUBTITLE_SIZE)
        if self.note and first:
            y += NOTE_GAP
            lettering.lines(self.note, MARGIN, y, size=NOTE_SIZE, color=MUTED, width=INNER)
            y += block_height(len(self.note), NOTE_SIZE)
        return y


@dataclass(frozen=True, slots=True)
class Row:
    lines: list[str]
    value: str
    share: float
    interval: tuple[float, float]  # the share's 95 % Wilson interval
    bar: str  # colour
    label: str  # colour
    bold: bool

    @property
    def height(self) -> float:
        return block_height(len(self.lines), OPTION_SIZE) + BAR_GAP + BAR_HEIGHT


@dataclass(slots=True)
class Panel:
    """One question's texts and shares, laid out in design pixels."""

    question: list[str]
    voters: str
    rows: list[Row]
    trend: list[tuple[float, float]]
    height: float = field(init=False)

    def __post_init__(self) -> None:
        self.height = block_height(len(self.question), QUESTION_SIZE) + VOTERS_GAP
        self.height += block_height(1, VOTERS_SIZE)
        if self.rows:
            self.height += ROWS_GAP + sum(row.height for row in self.rows)
            self.height += ROW_GAP * (len(self.rows) - 1)

    @classmethod
    def of(cls, question: ChartQuestion, labels: ChartLabels) -> Panel:
        text = wrap(question.text, QUESTION_SIZE, True, INNER)
        voters = max(question.voters, 0)
        if not voters:  # one muted line, no rows
            return cls(text, labels.no_votes, [], [])
        rows = []
        for index, (option, count) in enumerate(zip(question.options, question.votes, strict=True)):
            count = min(max(count, 0), voters)
            share = count / voters
            value = option_value(labels, count, voters)
            leads = index == question.leader
            room = INNER - VALUE_GAP - advance(value, OPTION_SIZE, leads)
            if index == question.neutral:
                bar, label = (NEUTRAL_LEADER if leads else NEUTRAL), MUTED
            else:
                bar, label = (LEADER if leads else BAR), (INK if leads else TEXT)
            rows.append(
                Row(
                    lines=wrap(option, OPTION_SIZE, leads, room),
                    value=value,
                    share=share,
                    interval=wilson(count, voters),
                    bar=bar,
                    label=label,
                    bold=leads,
                )
            )
        trend = [(float(day), float(share)) for day, share in question.trend]
        return cls(text, voters_line(labels, question), rows, trend if len(trend) >= 2 else [])


def option_value(labels: ChartLabels, count: int, voters: int) -> str:
    """What an option's label line ends with: "38 % (11)", whole percentages under 100 voters
    (a decimal would be false precision), "37,9 % (110)" from 100 voters."""
    decimals = 0 if voters < 100 else 1
    return f"{labels.share(count / voters, decimals)} ({labels.count(count)})"


def voters_line(labels: ChartLabels, question: ChartQuestion) -> str:
    """ "29 votants", and "· plusieurs réponses possibles" when the shares can add up to more
    than 100 %."""
    line = labels.voters(max(question.voters, 0))
    if question.multiple and labels.multiple:
        line = f"{line} · {labels.multiple}"
    return line


def paginate(panels: list[Panel], first: float, budget: float) -> list[list[Panel]]:
    """Questions in order on pages of at most `budget` pixels (`first` on the first page; a
    taller question alone on its page), in at most MAX_PAGES pages: beyond, pages hold more
    and are scaled down."""
    while True:
        pages: list[list[Panel]] = [[]]
        used = 0.0
        for panel in panels:
            needed = panel.height + (PANEL_GAP if pages[-1] else 0)
            if pages[-1] and used + needed > (first if len(pages) == 1 else budget):
                pages.append([])
                used, needed = 0.0, panel.height
            pages[-1].append(panel)
            used += needed
        if len(pages) <= MAX_PAGES:
            return pages
        first, budget = first * 1.25, budget * 1.25
