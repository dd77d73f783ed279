"""The chart images of a group's poll results that go with the daily digest, made for a phone.

Each option's label sits above a bar as wide as the image, its share and count at the right of
the label; the 95 % interval crosses the bar. The leading option stands out only when its lead
is clear, the neutral option is grey, an unanswered question takes one line. Pages are at most
`MAX_HEIGHT` pixels tall, split between questions, each with the header: the sender sends
several as one album.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from bot.digests.drawing.lettering import (
    ASCENT,
    CAP,
    DPI,
    PT,
    Lettering,
    advance,
    block_height,
    wrap,
)
from bot.digests.drawing.panels import ChartLabels, ChartQuestion, Header, Panel, paginate
from bot.digests.drawing.png import encode_png
from bot.digests.drawing.style import (
    BACKGROUND,
    BAR_GAP,
    BAR_HEIGHT,
    HEADER_GAP,
    INK,
    INNER,
    MARGIN,
    MAX_HEIGHT,
    MAX_RATIO,
    MUTED,
    NOTE_SIZE,
    OPTION_SIZE,
    PANEL_GAP,
    QUESTION_SIZE,
    ROW_GAP,
    ROWS_GAP,
    RULE,
    SPARK,
    SPARK_DOT,
    SPARK_ROOM,
    SPARK_WIDTH,
    TITLE_SIZE,
    TRACK,
    TREND_DAYS,
    VALUE_GAP,
    VOTERS_GAP,
    VOTERS_SIZE,
    WHISKER,
    WHISKER_CAP,
    WIDTH,
)


def render_chart(questions: Sequence[ChartQuestion], labels: ChartLabels) -> list[bytes]:
    """PNG pages (at most MAX_PAGES) of the questions' results, each with the header."""
    for question in questions:
        if len(question.options) != len(question.votes):
            raise ValueError(f"{len(question.options)} options but {len(question.votes)} votes")
    panels = [Panel.of(question, labels) for question in questions]
    notes = [labels.note] if labels.note else []
    if labels.trend_note and any(panel.trend for panel in panels):
        notes.append(labels.trend_note)
    header = Header(
        title=wrap(labels.title, TITLE_SIZE, True, INNER),
        subtitle=labels.subtitle,
        note=[line for note in notes for line in wrap(note, NOTE_SIZE, False, INNER)],
        span=labels.trend_span,
    )
    room = MAX_HEIGHT - 2 * MARGIN - HEADER_GAP
    pages = paginate(panels, room - header.height(True), room - header.height(False))
    drawn = [
        draw_page(header, page, number, len(pages)) for number, page in enumerate(pages, 1)
    ]
    give_back_memory()
    return drawn


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, where the C library has it (not musl, not macOS)."""
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    trim = getattr(library, "malloc_trim", None)
    return cast(Callable[[int], int], trim) if trim is not None else None


def give_back_memory() -> None:
    """Return the memory the pages' canvases were drawn in to the system. glibc keeps what a
    thread frees in that thread's arena: each drawing thread would otherwise hold on to the
    memory of its largest chart (a fan-out peaked at 202-206 MiB without this, 192 with)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class Shapes:
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


def draw_page(header: Header, panels: list[Panel], number: int, pages: int) -> bytes:
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
    shapes = Shapes()
    y = header.draw(lettering, f"{number}/{pages}" if pages > 1 else "", number == 1)
    for index, panel in enumerate(panels):
        y += HEADER_GAP if index == 0 else PANEL_GAP
        rule = y - (HEADER_GAP if index == 0 else PANEL_GAP) / 2
        width = 1.5 if index == 0 else 1.0
        shapes.line(Shapes.TRACKS, RULE, width, (MARGIN, rule), (WIDTH - MARGIN, rule))
        y = draw_panel(panel, y, header.span, lettering, shapes)
    shapes.add_to(figure, lettering)
    canvas.draw()  # type: ignore[no-untyped-call]
    png = encode_png(np.asarray(canvas.buffer_rgba()))  # type: ignore[no-untyped-call]
    # The figure and its canvas refer to each other: give the figure a bare canvas, so that the
    # Agg canvas and its pixels are freed on return, not at the next full collection.
    figure.clear()
    FigureCanvasBase(figure)
    return png


def draw_panel(
    panel: Panel, top: float, span: str, lettering: Lettering, shapes: Shapes
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
        sparkline(panel.trend, span, lettering, shapes, baseline)
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
        shapes.box(Shapes.TRACKS, TRACK, MARGIN, y, WIDTH - MARGIN, bottom)
        if row.share > 0:
            shapes.box(Shapes.BARS, row.bar, MARGIN, y, MARGIN + INNER * row.share, bottom)
        low, high = (MARGIN + INNER * bound for bound in row.interval)
        cap = WHISKER_CAP / 2
        shapes.line(Shapes.MARKS, WHISKER, 1.6, (low, middle), (high, middle))
        shapes.line(Shapes.MARKS, WHISKER, 1.6, (low, middle - cap), (low, middle + cap))
        shapes.line(Shapes.MARKS, WHISKER, 1.6, (high, middle - cap), (high, middle + cap))
        y = bottom
    return y


def sparkline(
    trend: list[tuple[float, float]],
    span: str,
    lettering: Lettering,
    shapes: Shapes,
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

    shapes.line(Shapes.TRACKS, RULE, 1.5, (left, bottom + 4), (right, bottom + 4))
    shapes.line(Shapes.MARKS, SPARK, 2.5, *(point(day, share) for day, share in trend))
    x, y = point(*trend[-1])
    dot = [
        (x + SPARK_DOT * math.cos(k * math.pi / 6), y + SPARK_DOT * math.sin(k * math.pi / 6))
        for k in range(12)
    ]
    shapes.polygon(Shapes.MARKS, SPARK, dot)
