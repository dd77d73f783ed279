"""Small text pieces shared by results, digests and listings: escaping, bars, voter counts,
and cutting texts to Telegram's limit as Telegram counts it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from bot.core.i18n import format_number, ngettext

BAR_WIDTH = 10
MESSAGE_LIMIT = 4096


def escape(text: str) -> str:
    """User or content text made safe for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def echo(typed: str, limit: int = 32) -> str:
    """What someone typed, quoted back in an answer: cut to `limit` characters (with "…") so
    that a long argument cannot push the answer past Telegram's limits, then escaped."""
    return escape(typed if len(typed) <= limit else typed[: limit - 1] + "…")


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A text bar of `width` segments for a share in [0, 1] (longer shares are capped)."""
    filled = round(min(max(share, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def voters_text(count: int) -> str:
    return ngettext("{count} voter", "{count} voters", count).format(count=format_number(count))


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# What Telegram's HTML parser turns into text: a tag (nothing), an entity (one character),
# or any other character. The entities are those Telegram decodes.
_ATOM = re.compile(r"<[^<>]*>|&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});|.", re.S)
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_TAG = re.compile(r"<[^<>]*>")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAMED_ENTITIES = tuple(f"&{name};" for name in _NAMED)


def _decoded(match: re.Match[str]) -> str:
    named, decimal, hexadecimal = match.groups()
    if named is not None:
        return _NAMED[named]
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def telegram_length(text: str) -> int:
    """How long Telegram counts a message in HTML parse mode: the UTF-16 code units of its
    text once the tags are removed and the entities decoded (`&lt;` counts 1, an emoji 2).
    This is what its 4,096 limit applies to."""
    text = _TAG.sub("", text)
    if "&#" in text:  # rare: numeric entities, decoded one by one
        return utf16_length(_ENTITY.sub(_decoded, text))
    # Each named entity counts one: fast, as entities cannot overlap (each ends at its ";").
    return utf16_length(text) - sum(text.count(name) * (len(name) - 1) for name in _NAMED_ENTITIES)


def plain_text(text: str) -> str:
    """The text Telegram shows for an HTML message: tags removed, entities decoded, and the
    surrounding white space trimmed as Telegram trims it."""
    return _ENTITY.sub(_decoded, _TAG.sub("", text)).strip()


class Pages:
    """Consecutive items packed greedily into pages of at most `limit` (as Telegram counts).

    An item costs `alone` when it opens a page and `after` when it follows another on the
    same page (a separator, a heading repeated on each page...). The same items always make
    the same pages, so that page k can be rebuilt from the data alone.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0  # pages opened so far
        self._used = 0

    def add(self, alone: int, after: int) -> int:
        """Place the next item; return the page (from 0) it lands on. An item longer than
        the limit on its own gets a page of its own."""
        if self.count and self._used + after <= self.limit:
            self._used += after
        else:
            self.count += 1
            self._used = alone
        return self.count - 1


def split_blocks(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks with blank lines into messages of at most `limit`, counted as Telegram
    counts HTML messages (see `telegram_length`).

    A block too long on its own is cut at line ends, then at spaces, never inside a word
    (unless a single word is longer than the limit; even then never inside a tag or an
    entity).
    """
    return _pack([piece for block in blocks for piece in _fit(block, limit)], "\n\n", limit)


def _fit(block: str, limit: int) -> list[str]:
    """The block as pieces of at most `limit`, cut at the coarsest separator."""
    if telegram_length(block) <= limit:
        return [block]
    for separator in ("\n", " "):
        if separator in block:
            parts = [chunk for part in block.split(separator) for chunk in _fit(part, limit)]
            return _pack(parts, separator, limit)
    return _cut(block, limit)


def _cut(word: str, limit: int) -> list[str]:
    """A word longer than the limit, cut between characters (tags and entities kept whole)."""
    pages = Pages(limit)
    pieces: list[str] = []
    for atom in _ATOM.findall(word):
        size = telegram_length(atom)
        if pages.add(size, size) == len(pieces):
            pieces.append(atom)
        else:
            pieces[-1] += atom
    return pieces


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    """Greedily join consecutive pieces with `separator` while they fit in `limit`."""
    gap = telegram_length(separator)
    pages = Pages(limit)
    packed: list[str] = []
    for piece in pieces:
        size = telegram_length(piece)
        if pages.add(size, gap + size) == len(packed):
            packed.append(piece)
        else:
            packed[-1] += separator + piece
    return [piece for piece in packed if piece]
