"""The chart image of a group's poll results that goes with the daily digest."""

from __future__ import annotations

import functools
import struct
import textwrap
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.backend_bases import FigureCanvasBase, RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.transforms import Affine2D

from bot.insights import wilson


@dataclass(frozen=True, slots=True)
class ChartQuestion:
    """One question's results: labels in the chat's language, votes per option, voters."""

    text: str
    options: Sequence[str]
    votes: Sequence[int]
    voters: int


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Every word the chart shows, already translated for the chat."""

    title: str
    no_votes: str
    voters: Callable[[int], str]
    share: Callable[[float], str]
    note: str = ""  # under the title: what the error bars mean


# The layout is computed in design pixels at DPI, top-down from the top-left corner. A figure
# too large for Telegram is rendered at a lower dpi, which scales everything down alike.
DPI = 100
WIDTH = 1080
MARGIN = 40
PT = DPI / 72  # design pixels per point

# Telegram's photo limits, width + height <= 10000 px and a ratio of at most 20, with some
# room for rounding to whole pixels.
MAX_SIDES = 9990
MAX_RATIO = 19.5

TITLE_SIZE = 20.0
QUESTION_SIZE = 16.0
VOTERS_SIZE = 13.0
OPTION_SIZE = 14.0
VALUE_SIZE = 14.0
NO_VOTES_SIZE = 15.0

TITLE_WRAP = 60
QUESTION_WRAP = 70
OPTION_WRAP = 32

# Vertical metrics of DejaVu Sans, in font sizes: distance between baselines, height above the
# baseline a line of text needs (accents included), height below it, capital letters' height.
PITCH = 1.25
ASCENT = 0.95
DESCENT = 0.25
CAP = 0.73

TITLE_GAP = 18  # below the figure title
NOTE_GAP = 6  # between the title and its note
PANEL_GAP = 40  # between panels; a hairline rule sits in its middle
VOTERS_GAP = 4  # between a question and its voters line
ROWS_GAP = 10  # between the voters line and the first bar
ROW_PAD = 5  # above and below each option label
BAR_HEIGHT = 26
LABEL_GAP = 16  # between an option label and its bar
VALUE_GAP = 10  # between a bar's end and its value
LABEL_MIN, LABEL_MAX = 160, 430
VALUE_MAX = 260

INK = "#111827"
WHISKER = "#1f2937"  # the 95 % interval drawn across a bar
WHISKER_CAP = 12  # height of its end ticks
TEXT = "#374151"
MUTED = "#6b7280"
FAINT = "#9ca3af"
ACCENT = "#3568b0"
TRACK = "#eef1f5"
RULE = "#e5e7eb"
BACKGROUND = "#ffffff"

_FONTS = Path(matplotlib.get_data_path(), "fonts", "ttf")
REGULAR = str(_FONTS / "DejaVuSans.ttf")
BOLD = str(_FONTS / "DejaVuSans-Bold.ttf")

# zlib level 3 on unfiltered rows: the image is mostly flat colour, so PNG's per-row filters
# (which Pillow always tries, and which cost most of its encoding time) gain nothing here.
PNG_COMPRESSION = 3
PNG_BAND = 128  # rows compressed at a time


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgba: npt.NDArray[np.uint8]) -> bytes:
    """An opaque RGBA image as an RGB PNG, each row unfiltered, compressed a band of rows at a
    time (a few hundred KB of memory, not a copy of the image; zlib releases the GIL, so
    charts drawn in two threads really encode in parallel)."""
    height, width, _ = rgba.shape
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    compressor = zlib.compressobj(PNG_COMPRESSION)
    band = np.zeros((min(height, PNG_BAND), 1 + 3 * width), dtype=np.uint8)  # filter 0: none
    pieces = []
    pixels = band[:, 1:].reshape(len(band), width, 3)  # a view: one copy per band
    for top in range(0, height, PNG_BAND):
        rows = rgba[top : top + PNG_BAND, :, :3]
        pixels[: len(rows)] = rows
        pieces.append(compressor.compress(band[: len(rows)].data))
    pieces.append(compressor.flush())
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", b"".join(pieces)),
            _png_chunk(b"IEND", b""),
        )
    )


def render_chart(questions: Sequence[ChartQuestion], labels: ChartLabels) -> bytes:
    """PNG bytes of horizontal bar charts, one panel per question."""
    for question in questions:
        if len(question.options) != len(question.votes):
            raise ValueError(f"{len(question.options)} options but {len(question.votes)} votes")
    panels = [_Panel.of(question, labels) for question in questions]
    title = _wrap(labels.title, TITLE_WRAP)
    note = _wrap(labels.note, QUESTION_WRAP) if labels.note else []

    # Vertical layout first: it follows from the line counts alone.
    y = MARGIN + _block(len(title), TITLE_SIZE)
    note_top = y + NOTE_GAP
    if note:
        y = note_top + _block(len(note), VOTERS_SIZE)
    y += TITLE_GAP
    for index, panel in enumerate(panels):
        y = panel.place(y + (PANEL_GAP if index else 0))
    height = max(y + MARGIN, WIDTH / MAX_RATIO)
    width = max(WIDTH, height / MAX_RATIO)  # dozens of questions: white space on the right
    scale = min(1.0, MAX_SIDES / (width + height))

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI * scale, facecolor=BACKGROUND)
    canvas = FigureCanvasAgg(figure)
    lettering = _Lettering(scale=scale, height=height)
    inner = WIDTH - 2 * MARGIN
    lettering.block(title, MARGIN, MARGIN, size=TITLE_SIZE, bold=True, color=INK, width=inner)
    if note:
        lettering.block(note, MARGIN, note_top, size=VOTERS_SIZE, color=MUTED, width=inner)

    # Horizontal layout: the option labels' column is as wide as its widest label needs.
    label_stamps = [
        [lettering.fit(line, OPTION_SIZE, False, LABEL_MAX) for line in lines]
        for panel in panels
        for lines in panel.option_lines
    ]
    value_stamps = [
        lettering.fit(value, VALUE_SIZE, False, VALUE_MAX)
        for panel in panels
        for value in panel.values
    ]
    label_width = max([LABEL_MIN, *(lettering.width(s) for ss in label_stamps for s in ss)])
    value_width = max([0.0, *(lettering.width(s) for s in value_stamps)])
    bars_left = MARGIN + label_width + LABEL_GAP
    bars_width = WIDTH - MARGIN - value_width - VALUE_GAP - bars_left

    tracks: list[list[tuple[float, float]]] = []
    bars: list[list[tuple[float, float]]] = []
    rules: list[list[tuple[float, float]]] = []
    whiskers: list[list[tuple[float, float]]] = []
    labels_left = iter(label_stamps)
    values_left = iter(value_stamps)
    for index, panel in enumerate(panels):
        if index:
            rule = panel.top - PANEL_GAP / 2
            rules.append([(MARGIN, rule), (WIDTH - MARGIN, rule)])
        y = panel.top
        lines = panel.question_lines
        lettering.block(lines, MARGIN, y, size=QUESTION_SIZE, bold=True, color=INK, width=inner)
        y += _block(len(lines), QUESTION_SIZE) + VOTERS_GAP
        lettering.block([panel.voters], MARGIN, y, size=VOTERS_SIZE, color=MUTED, width=inner)
        unit = bars_width / max([1.0, *panel.shares])
        for option, middle in enumerate(panel.middles):
            stamps = next(labels_left)
            lettering.centred(
                stamps,
                MARGIN + label_width,
                middle,
                size=OPTION_SIZE,
                color=TEXT if panel.counted else FAINT,
                align="right",
            )
            if not panel.counted:
                continue
            top, bottom = middle - BAR_HEIGHT / 2, middle + BAR_HEIGHT / 2
            tracks.append(_box(bars_left, top, bars_left + unit, bottom))
            end = bars_left + unit * panel.shares[option]
            if end > bars_left:
                bars.append(_box(bars_left, top, end, bottom))
            low, high = (bars_left + unit * bound for bound in panel.intervals[option])
            cap = WHISKER_CAP / 2
            whiskers += [
                [(low, middle), (high, middle)],
                [(low, middle - cap), (low, middle + cap)],
                [(high, middle - cap), (high, middle + cap)],
            ]
            lettering.centred(
                [next(values_left)], max(end, high) + VALUE_GAP, middle, size=VALUE_SIZE,
                color=TEXT,
            )
        if not panel.counted and panel.middles:
            middle = (panel.middles[0] + panel.middles[-1]) / 2
            stamp = lettering.fit(panel.no_votes, NO_VOTES_SIZE, False, bars_width)
            centre = bars_left + bars_width / 2 - lettering.width(stamp) / 2
            lettering.centred([stamp], centre, middle, size=NO_VOTES_SIZE, color=MUTED)

    place = lettering.transform()
    for boxes, colour in ((tracks, TRACK), (bars, ACCENT)):
        figure.add_artist(
            PolyCollection(boxes, facecolors=colour, edgecolors="none", transform=place)
        )
    figure.add_artist(LineCollection(rules, colors=RULE, linewidths=1, transform=place))
    figure.add_artist(
        LineCollection(whiskers, colors=WHISKER, linewidths=1.5, transform=place)
    )
    figure.add_artist(lettering)

    canvas.draw()  # type: ignore[no-untyped-call]
    png = encode_png(np.asarray(canvas.buffer_rgba()))  # type: ignore[no-untyped-call]
    # The figure and its canvas refer to each other: give the figure a bare canvas, so that the
    # Agg canvas and its pixels (10 MB) are freed on return, not at the next full collection.
    figure.clear()
    FigureCanvasBase(figure)
    return png


@dataclass(slots=True)
class _Panel:
    """One question's texts, shares and vertical places (design pixels from the top)."""

    question_lines: list[str]
    voters: str
    option_lines: list[list[str]]
    shares: list[float]
    intervals: list[tuple[float, float]]  # 95 % Wilson intervals of the shares
    values: list[str]
    no_votes: str
    counted: bool
    top: float = 0.0
    middles: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, question: ChartQuestion, labels: ChartLabels) -> _Panel:
        voters = max(question.voters, 0)
        votes = [max(count, 0) for count in question.votes]
        shares = [count / voters if voters else 0.0 for count in votes]
        return cls(
            question_lines=_wrap(question.text, QUESTION_WRAP),
            voters=_drawable(labels.voters(question.voters)),
            option_lines=[_wrap(option, OPTION_WRAP) for option in question.options],
            shares=shares,
            intervals=[wilson(min(count, voters), voters) for count in votes],
            values=[
                _drawable(f"{labels.share(share)} ({count})")
                for share, count in zip(shares, votes, strict=True)
            ]
            if voters
            else [],
            no_votes=_drawable(labels.no_votes),
            counted=voters > 0,
        )

    def place(self, top: float) -> float:
        """Lay the panel out from `top` down; return where it ends."""
        self.top = top
        y = top + _block(len(self.question_lines), QUESTION_SIZE) + VOTERS_GAP
        y += _block(1, VOTERS_SIZE) + ROWS_GAP
        for lines in self.option_lines:
            row = max(_block(len(lines), OPTION_SIZE), BAR_HEIGHT) + 2 * ROW_PAD
            self.middles.append(y + row / 2)
            y += row
        return y


@dataclass(frozen=True, slots=True)
class _Stamp:
    """One line of text rasterised: coverage, bottom row first, and its metrics in pixels."""

    coverage: npt.NDArray[np.uint8]
    width: float  # of the ink
    descent: float  # below the baseline
    bearing: float  # from the origin to the ink


@functools.lru_cache(maxsize=2048)
def _stamp(text: str, font_path: str, size: float, dpi: float) -> _Stamp:
    """`text` rasterised on one line by FreeType, the way Agg drew text up to matplotlib 3.10.

    Matplotlib 3.11's Text artists rasterise glyph by glyph from Python, about 0.2 ms each, and
    a digest chart has some two thousand glyphs. A whole line at once costs about what four
    glyphs do, and lines recur from chart to chart (the same questions, common shares), hence
    the cache: its values are immutable, and lru_cache is safe across threads.
    """
    font = get_font(font_path)  # one FT2Font per thread
    font.clear()
    font.set_size(size, dpi)
    font.set_text(text, 0.0, flags=LoadFlags.DEFAULT)
    font.draw_glyphs_to_bitmap(antialiased=True)
    coverage = np.ascontiguousarray(np.asarray(font.get_image(), dtype=np.uint8)[::-1])
    coverage.flags.writeable = False
    return _Stamp(
        coverage=coverage,
        width=font.get_width_height()[0] / 64,
        descent=font.get_descent() / 64,
        bearing=font.get_bitmap_offset()[0] / 64,
    )


class _Lettering(Artist):
    """All the chart's text, drawn as FreeType bitmaps at baselines in design pixels."""

    def __init__(self, *, scale: float, height: float) -> None:
        super().__init__()
        self.set_zorder(3)  # above the bars, like matplotlib's own text
        self._scale = scale
        self._height = height
        self._dpi = DPI * scale
        self._lines: list[tuple[_Stamp, tuple[int, int, int], float, float]] = []

    def transform(self) -> Affine2D:
        """Design pixels (from the top-left corner) to display pixels."""
        return Affine2D().scale(1, -1).translate(0, self._height).scale(self._scale)

    def stamp(self, text: str, size: float, bold: bool) -> _Stamp:
        return _stamp(text, BOLD if bold else REGULAR, round(size, 2), self._dpi)

    def width(self, stamp: _Stamp) -> float:
        """How far right of its origin `stamp` reaches, in design pixels."""
        return (stamp.bearing + stamp.width) / self._scale

    def fit(self, text: str, size: float, bold: bool, width: float) -> _Stamp:
        """`text` at `size`, or smaller so that it is at most `width` design pixels wide."""
        stamp = self.stamp(text, size, bold)
        if self.width(stamp) > width:
            stamp = self.stamp(text, size * width / self.width(stamp) * 0.98, bold)
        return stamp

    def block(
        self,
        lines: Sequence[str],
        left: float,
        top: float,
        *,
        size: float,
        color: str,
        width: float,
        bold: bool = False,
    ) -> None:
        """Lines of text hanging from `top`, each shrunk if wider than `width`."""
        stamps = [self.fit(line, size, bold, width) for line in lines]
        baseline = top + ASCENT * size * PT
        for stamp in stamps:
            self.add(stamp, color, left, baseline)
            baseline += PITCH * size * PT

    def centred(
        self,
        stamps: Sequence[_Stamp],
        x: float,
        middle: float,
        *,
        size: float,
        color: str,
        align: str = "left",
    ) -> None:
        """Lines whose capitals-to-last-baseline span is centred on `middle`."""
        pitch = PITCH * size * PT
        baseline = middle + (CAP * size * PT - (len(stamps) - 1) * pitch) / 2
        for stamp in stamps:
            self.add(stamp, color, x - self.width(stamp) if align == "right" else x, baseline)
            baseline += pitch

    def add(self, stamp: _Stamp, color: str, left: float, baseline: float) -> None:
        rgb = (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))
        x, y = left * self._scale, (self._height - baseline) * self._scale
        self._lines.append((stamp, rgb, x, y))

    def draw(self, renderer: RendererBase) -> None:
        if not self.get_visible():
            return
        gc = renderer.new_gc()
        for stamp, rgb, x, y in self._lines:
            image = np.empty((*stamp.coverage.shape, 4), dtype=np.uint8)
            image[..., :3] = rgb
            image[..., 3] = stamp.coverage
            # The bitmap's bottom row lies one pixel below the text's descent.
            renderer.draw_image(gc, round(x + stamp.bearing), round(y - stamp.descent) - 1, image)
        gc.restore()
        self.stale = False


@functools.cache
def _glyphs() -> frozenset[int]:
    """The code points both bundled fonts can draw."""
    return frozenset(get_font(REGULAR).get_charmap()) & frozenset(get_font(BOLD).get_charmap())


def _drawable(text: str) -> str:
    """`text` with the characters the fonts lack replaced, so that FreeType never misses one.

    Matplotlib warns about each missing glyph; rather than filter warnings (process-wide and not
    thread-safe), the text is made drawable: unknown spaces become spaces, unknown letters and
    digits a white square (something is there), emoji, joiners and other marks are dropped.
    """
    glyphs = _glyphs()
    kept: list[str] = []
    for character in text:
        category = unicodedata.category(character)[0]
        if ord(character) in glyphs and category != "C":
            kept.append(character)
        elif character.isspace():
            kept.append(" ")
        elif category in "LN":
            kept.append("\u25a1")
    drawable = "".join(kept)
    if len(drawable) == len(text):
        return drawable
    return " ".join(word for word in drawable.split(" ") if word)  # where emoji were


def _wrap(text: str, width: int) -> list[str]:
    """`text` on lines of about `width` characters, breaking only between words.

    Only ASCII whitespace breaks a line: no-break spaces (« », 37,9 %) and hyphens (a-t-il) hold.
    """
    lines = textwrap.wrap(_drawable(text), width, break_long_words=False, break_on_hyphens=False)
    return lines or [""]


def _block(lines: int, size: float) -> float:
    """The height in design pixels of `lines` lines of text at `size` points."""
    return (ASCENT + (lines - 1) * PITCH + DESCENT) * size * PT


def _box(left: float, top: float, right: float, bottom: float) -> list[tuple[float, float]]:
    return [(left, top), (right, top), (right, bottom), (left, bottom)]
