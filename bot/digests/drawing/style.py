"""The chart's measures and colours, in design pixels at DPI (top-down from the top-left
corner) and points: a page too tall for MAX_HEIGHT is rendered at a lower dpi, which scales
everything down alike."""

from __future__ import annotations

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
