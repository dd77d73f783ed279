"""The chart's lettering (FreeType bitmaps of whole lines, lines wrapped by measured width)
and its PNG encoder.

Coordinates are design pixels at `DPI`, from the top-left corner; a page rendered smaller (a
lower dpi) scales everything alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.backend_bases import RendererBase
from matplotlib.font_manager import get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.transforms import Affine2D

DPI = 100
PT = DPI / 72  # design pixels per point

# Vertical metrics of DejaVu Sans, in font sizes: distance between baselines, height above the
# baseline a line of text needs (accents included), height below it, capital letters' height.
PITCH = 1.25
ASCENT = 0.95
DESCENT = 0.25
CAP = 0.73

_FONTS = Path(matplotlib.get_data_path(), "fonts", "ttf")
REGULAR = str(_FONTS / "DejaVuSans.ttf")
BOLD = str(_FONTS / "DejaVuSans-Bold.ttf")

# Only ASCII whitespace breaks a line: no-break spaces (« », 37,9 %) and hyphens (a-t-il) hold.
_BREAKS = re.compile(r"[ \t\n\r\x0b\x0c]+")


@dataclass(frozen=True, slots=True)
class Stamp:
    """One line of text rasterised: coverage, bottom row first, and its metrics in pixels."""

    coverage: npt.NDArray[np.uint8]
    width: float  # of the ink
    descent: float  # below the baseline
    bearing: float  # from the origin to the ink


@functools.lru_cache(maxsize=1024)  # 66 % of hits; 4096 gave 75 % for 18 MB more
def _stamp(text: str, font_path: str, size: float, dpi: float) -> Stamp:
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
    return Stamp(
        coverage=coverage,
        width=font.get_width_height()[0] / 64,
        descent=font.get_descent() / 64,
        bearing=font.get_bitmap_offset()[0] / 64,
    )


@functools.lru_cache(maxsize=8192)
def advance(text: str, size: float, bold: bool) -> float:
    """How far `text` reaches at `size` points, in design pixels: laid out, not rasterised."""
    font = get_font(BOLD if bold else REGULAR)
    font.set_size(size, DPI)
    font.set_text(text, 0.0, flags=LoadFlags.DEFAULT)
    return float(font.get_width_height()[0] / 64 + font.get_bitmap_offset()[0] / 64)


def wrap(text: str, size: float, bold: bool, width: float) -> list[str]:
    """`text` (made drawable) on as few lines at most `width` pixels wide as its words allow,
    balanced: the lines are as even as that number allows, so that no word is left alone on
    a last line when its neighbours could keep it company."""
    words = [word for word in _BREAKS.split(drawable(text)) if word]
    if not words:
        return [""]
    widths = [advance(word, size, bold) for word in words]
    space = advance("a a", size, bold) - advance("aa", size, bold)
    count = len(_lines(widths, space, width))
    if count > 1:
        # The narrowest measure that still needs no more lines: a few halvings are plenty.
        low, high = max(max(widths), sum(widths) / count), width
        for _ in range(12):
            middle = (low + high) / 2
            if len(_lines(widths, space, middle)) <= count:
                high = middle
            else:
                low = middle
        width = high
    return [" ".join(words[start:end]) for start, end in _lines(widths, space, width)]


def _lines(widths: Sequence[float], space: float, width: float) -> list[tuple[int, int]]:
    """Greedy line breaks: (first word, word after the last) of each line."""
    lines: list[tuple[int, int]] = []
    start, reach = 0, widths[0]
    for index in range(1, len(widths)):
        if reach + space + widths[index] > width + 0.01:
            lines.append((start, index))
            start, reach = index, widths[index]
        else:
            reach += space + widths[index]
    lines.append((start, len(widths)))
    return lines


def block_height(lines: int, size: float) -> float:
    """The height in design pixels of `lines` lines of text at `size` points."""
    return (ASCENT + (max(lines, 1) - 1) * PITCH + DESCENT) * size * PT


class Lettering(Artist):
    """All of a page's text, drawn as FreeType bitmaps at baselines in design pixels."""

    def __init__(self, *, scale: float, height: float) -> None:
        super().__init__()
        self.set_zorder(3)  # above the bars, like matplotlib's own text
        self._scale = scale
        self._height = height
        self._dpi = DPI * scale
        self._lines: list[tuple[Stamp, tuple[int, int, int], float, float]] = []

    def transform(self) -> Affine2D:
        """Design pixels (from the top-left corner) to display pixels."""
        return Affine2D().scale(1, -1).translate(0, self._height).scale(self._scale)

    def stamp(self, text: str, size: float, bold: bool) -> Stamp:
        return _stamp(text, BOLD if bold else REGULAR, round(size, 2), self._dpi)

    def width(self, stamp: Stamp) -> float:
        """How far right of its origin `stamp` reaches, in design pixels."""
        return (stamp.bearing + stamp.width) / self._scale

    def fit(self, text: str, size: float, bold: bool, width: float) -> Stamp:
        """`text` at `size`, or smaller so that it is at most `width` design pixels wide."""
        stamp = self.stamp(text, size, bold)
        if self.width(stamp) > width > 0:
            stamp = self.stamp(text, size * width / self.width(stamp) * 0.98, bold)
        return stamp

    def line(
        self,
        text: str,
        x: float,
        baseline: float,
        *,
        size: float,
        color: str,
        bold: bool = False,
        width: float = 0.0,
        right: bool = False,
    ) -> float:
        """One line of text on `baseline`, from `x` (or ending at `x`: `right`), shrunk if
        wider than `width` (when given); returns how wide it is drawn."""
        stamp = self.fit(text, size, bold, width) if width else self.stamp(text, size, bold)
        drawn = self.width(stamp)
        self.add(stamp, color, x - drawn if right else x, baseline)
        return drawn

    def lines(
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
        baseline = top + ASCENT * size * PT
        for text in lines:
            self.line(text, left, baseline, size=size, color=color, bold=bold, width=width)
            baseline += PITCH * size * PT

    def add(self, stamp: Stamp, color: str, left: float, baseline: float) -> None:
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


def drawable(text: str) -> str:
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
    result = "".join(kept)
    if len(result) == len(text):
        return result
    return " ".join(word for word in result.split(" ") if word)  # where emoji were
