"""The chart images of a group's poll results that go with the daily digest, made for a phone.

Each option's label sits above a bar as wide as the image, its share and count at the right of
the label; the 95 % interval crosses the bar. The leading option stands out only when its lead
is clear, the neutral option is grey, an unanswered question takes one line. Pages are at most
`MAX_HEIGHT` pixels tall, split between questions, each with the header: the sender sends
several as one album.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from bot.chart_layout import (
    ASCENT,
    CAP,
    DPI,
    PT,
    Lettering,
    advance,
    block_height,
    encode_png,
    wrap,
)
from bot.insights import wilson


@dataclass(frozen=True, slots=True)
class ChartQuestion:
    """One question's results: labels in the chat's language, votes per option, voters."""

    text: str
    options: Sequence[str]
    votes: Sequence[int]
    voters: int
    multiple: bool = False  # several answers allowed: the shares can add up to over 100 %
    neutral: int | None = None  # the option that takes no side ("No opinion"): grey
    leader: int | None = None  # the option whose lead is clear (bot.insights): emphasised
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


# Design pixels at DPI, top-down from the top-left corner. A page too tall for MAX_HEIGHT is
# rendered at a lower dpi, which scales everything down alike.
WIDTH = 1080
MARGIN = 44
INNER = WIDTH - 2 * MARGIN
# Telegram shows a photo at most 2560 pixels on its longest side, scaling larger ones down;
# its upload limits (width + height <= 10000, a ratio of at most 20) are then met too.
MAX_HEIGHT = 2560
MAX_PAGES = 10  # photos in one album
MAX_RATIO = 19.5  # of height to width, with room for rounding to whole pixels

# Sizes in points (1.6 times those of the first chart, or more).
TITLE_SIZE = 32.0
SUBTITLE_SIZE = 21.0
NOTE_SIZE = 21.0
QUESTION_SIZE = 26.0
VOTERS_SIZE = 21.0
OPTION_SIZE = 23.0

TITLE_GAP = 8  # between the title and the subtitle
NOTE_GAP = 10  # between the subtitle and the note
HEADER_GAP = 48  # below the header; a rule sits in its middle
PANEL_GAP = 52  # between questions; a rule sits in its middle
VOTERS_GAP = 6  # between a question and its voters line
ROWS_GAP = 22  # between the voters line and the first label
VALUE_GAP = 24  # between a label and its value
BAR_GAP = 6  # between a label and its bar
BAR_HEIGHT = 22
ROW_GAP = 20  # between a bar and the next label
WHISKER_CAP = 14  # height of the interval's end ticks
SPARK_WIDTH = 170  # the leader's share over the last days, right of the voters line
SPARK_DOT = 5  # radius of today's dot
SPARK_ROOM = SPARK_WIDTH + 130  # with its span ("14 d") and a gap
TREND_DAYS = 14

INK = "#111827"
TEXT = "#374151"
MUTED = "#6b7280"
WHISKER = "#111827"
BAR = "#8db0e0"
LEADER = "#1f56b8"
NEUTRAL = "#c3c8d0"
NEUTRAL_LEADER = "#7c8594"
TRACK = "#eef1f5"
RULE = "#dfe3e8"
SPARK = "#1f56b8"
BACKGROUND = "#ffffff"

def render_chart(questions: Sequence[ChartQuestion], labels: ChartLabels) -> list[bytes]:
    """PNG pages (at most MAX_PAGES) of the questions' results, each with the header."""
    for question in questions:
        if len(question.options) != len(question.votes):
            raise ValueError(f"{len(question.options)} options but {len(question.votes)} votes")
    panels = [_Panel.of(question, labels) for question in questions]
    notes = [labels.note] if labels.note else []
    if labels.trend_note and any(panel.trend for panel in panels):
        notes.append(labels.trend_note)
    header = _Header(
        title=wrap(labels.title, TITLE_SIZE, True, INNER),
        subtitle=labels.subtitle,
        note=[line for note in notes for line in wrap(note, NOTE_SIZE, False, INNER)],
        span=labels.trend_span,
    )
    room = MAX_HEIGHT - 2 * MARGIN - HEADER_GAP
    pages = _paginate(panels, room - header.height(True), room - header.height(False))
    return [
        _draw_page(header, page, number, len(pages)) for number, page in enumerate(pages, 1)
    ]


@dataclass(frozen=True, slots=True)
class _Header:
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
class _Row:
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
class _Panel:
    """One question's texts and shares, laid out in design pixels."""

    question: list[str]
    voters: str
    rows: list[_Row]
    trend: list[tuple[float, float]]
    height: float = field(init=False)

    def __post_init__(self) -> None:
        self.height = block_height(len(self.question), QUESTION_SIZE) + VOTERS_GAP
        self.height += block_height(1, VOTERS_SIZE)
        if self.rows:
            self.height += ROWS_GAP + sum(row.height for row in self.rows)
            self.height += ROW_GAP * (len(self.rows) - 1)

    @classmethod
    def of(cls, question: ChartQuestion, labels: ChartLabels) -> _Panel:
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
                _Row(
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


def _paginate(panels: list[_Panel], first: float, budget: float) -> list[list[_Panel]]:
    """Questions in order on pages of at most `budget` pixels (`first` on the first page; a
    taller question alone on its page), in at most MAX_PAGES pages: beyond, pages hold more
    and are scaled down."""
    while True:
        pages: list[list[_Panel]] = [[]]
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


class _Shapes:
    """The page's bars, intervals and curves, drawn as a few collections, layer by layer."""

    TRACKS, BARS, MARKS = 0, 1, 2

    def __init__(self) -> None:
        self.polygons: dict[tuple[int, str], list[list[tuple[float, float]]]] = {}
        self.lines: dict[tuple[int, str, float], list[list[tuple[float, float]]]] = {}

    def box(
        self, layer: int, colour: str, left: float, top: float, right: float, bottom: float
    ) -> None:
        self.polygon(layer, colour, [(left, top), (right, top), (right, bottom), (left, bottom)])

    def polygon(self, layer: int, colour: str, corners: list[tuple[float, float]]) -> None:
        self.polygons.setdefault((layer, colour), []).append(corners)

    def line(self, layer: int, colour: str, width: float, *points: tuple[float, float]) -> None:
        self.lines.setdefault((layer, colour, width), []).append(list(points))

    def add_to(self, figure: Figure, lettering: Lettering) -> None:
        place = lettering.transform()
        for (layer, colour), polygons in self.polygons.items():
            figure.add_artist(
                PolyCollection(
                    polygons, facecolors=colour, edgecolors="none", transform=place, zorder=layer
                )
            )
        for (layer, colour, width), lines in self.lines.items():
            figure.add_artist(
                LineCollection(
                    lines, colors=colour, linewidths=width, transform=place, capstyle="round",
                    joinstyle="round", zorder=layer + 0.5,
                )
            )
        figure.add_artist(lettering)


def _draw_page(header: _Header, panels: list[_Panel], number: int, pages: int) -> bytes:
    content = sum(panel.height for panel in panels) + PANEL_GAP * max(len(panels) - 1, 0)
    height = MARGIN + header.height(number == 1) + (HEADER_GAP + content if panels else 0)
    height += MARGIN
    scale = min(1.0, MAX_HEIGHT / height)
    # Scores of questions on a page (more than an album holds otherwise): white space on the
    # right keeps the page within Telegram's ratio, 20 at most.
    width = max(WIDTH, height / MAX_RATIO)
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI * scale, facecolor=BACKGROUND)
    canvas = FigureCanvasAgg(figure)
    lettering = Lettering(scale=scale, height=height)
    shapes = _Shapes()
    y = header.draw(lettering, f"{number}/{pages}" if pages > 1 else "", number == 1)
    for index, panel in enumerate(panels):
        y += HEADER_GAP if index == 0 else PANEL_GAP
        rule = y - (HEADER_GAP if index == 0 else PANEL_GAP) / 2
        width = 1.5 if index == 0 else 1.0
        shapes.line(_Shapes.TRACKS, RULE, width, (MARGIN, rule), (WIDTH - MARGIN, rule))
        y = _draw_panel(panel, y, header.span, lettering, shapes)
    shapes.add_to(figure, lettering)
    canvas.draw()  # type: ignore[no-untyped-call]
    png = encode_png(np.asarray(canvas.buffer_rgba()))  # type: ignore[no-untyped-call]
    # The figure and its canvas refer to each other: give the figure a bare canvas, so that the
    # Agg canvas and its pixels are freed on return, not at the next full collection.
    figure.clear()
    FigureCanvasBase(figure)
    return png


def _draw_panel(
    panel: _Panel, top: float, span: str, lettering: Lettering, shapes: _Shapes
) -> float:
    """Draw one question from `top` down; return where it ends."""
    y = top
    lettering.lines(
        panel.question, MARGIN, y, size=QUESTION_SIZE, color=INK, width=INNER, bold=True
    )
    y += block_height(len(panel.question), QUESTION_SIZE) + VOTERS_GAP
    baseline = y + ASCENT * VOTERS_SIZE * PT
    room = float(INNER - (SPARK_ROOM if panel.trend else 0))
    lettering.line(panel.voters, MARGIN, baseline, size=VOTERS_SIZE, color=MUTED, width=room)
    if panel.trend:
        _sparkline(panel.trend, span, lettering, shapes, baseline)
    y += block_height(1, VOTERS_SIZE) + ROWS_GAP
    for index, row in enumerate(panel.rows):
        if index:
            y += ROW_GAP
        baseline = y + ASCENT * OPTION_SIZE * PT
        lettering.line(
            row.value, WIDTH - MARGIN, baseline, size=OPTION_SIZE, color=row.label,
            bold=row.bold, right=True,
        )
        room = INNER - VALUE_GAP - advance(row.value, OPTION_SIZE, row.bold)
        lettering.lines(
            row.lines, MARGIN, y, size=OPTION_SIZE, color=row.label, width=room, bold=row.bold
        )
        y += block_height(len(row.lines), OPTION_SIZE) + BAR_GAP
        bottom, middle = y + BAR_HEIGHT, y + BAR_HEIGHT / 2
        shapes.box(_Shapes.TRACKS, TRACK, MARGIN, y, WIDTH - MARGIN, bottom)
        if row.share > 0:
            shapes.box(_Shapes.BARS, row.bar, MARGIN, y, MARGIN + INNER * row.share, bottom)
        low, high = (MARGIN + INNER * bound for bound in row.interval)
        cap = WHISKER_CAP / 2
        shapes.line(_Shapes.MARKS, WHISKER, 1.6, (low, middle), (high, middle))
        shapes.line(_Shapes.MARKS, WHISKER, 1.6, (low, middle - cap), (low, middle + cap))
        shapes.line(_Shapes.MARKS, WHISKER, 1.6, (high, middle - cap), (high, middle + cap))
        y = bottom
    return y


def _sparkline(
    trend: list[tuple[float, float]],
    span: str,
    lettering: Lettering,
    shapes: _Shapes,
    baseline: float,
) -> None:
    """The share of today's most chosen option over the last TREND_DAYS days, at the right of
    the voters line after `span` ("14 d"): on its own scale, at least 20 points tall so that
    noise stays small, with a dot on today's share."""
    cap = CAP * VOTERS_SIZE * PT
    top, bottom = baseline - cap * 1.5, baseline + cap * 0.3
    right = WIDTH - MARGIN - SPARK_DOT
    left = right - SPARK_WIDTH
    if span:
        lettering.line(
            span, left - SPARK_DOT * 3, baseline, size=VOTERS_SIZE, color=MUTED, right=True
        )
    shares = [share for _, share in trend]
    middle, height = (min(shares) + max(shares)) / 2, max(max(shares) - min(shares), 0.2)
    days = TREND_DAYS - 1

    def point(day: float, share: float) -> tuple[float, float]:
        x = right + (right - left) * max(day, -days) / days
        return x, (top + bottom) / 2 - (share - middle) / height * (bottom - top)

    shapes.line(_Shapes.TRACKS, RULE, 1.5, (left, bottom + 4), (right, bottom + 4))
    shapes.line(_Shapes.MARKS, SPARK, 2.5, *(point(day, share) for day, share in trend))
    x, y = point(*trend[-1])
    dot = [
        (x + SPARK_DOT * math.cos(k * math.pi / 6), y + SPARK_DOT * math.sin(k * math.pi / 6))
        for k in range(12)
    ]
    shapes.polygon(_Shapes.MARKS, SPARK, dot)
