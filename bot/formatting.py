"""Small text pieces shared by results and digests: escaping, bars, voter counts."""

from __future__ import annotations

import html
from collections.abc import Iterable

from bot.i18n import format_number, ngettext

BAR_WIDTH = 10
MESSAGE_LIMIT = 4096


def escape(text: str) -> str:
    """User or content text made safe for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def bar(share: float) -> str:
    """A ten-segment text bar for a share in [0, 1] (longer shares are capped)."""
    filled = round(min(max(share, 0.0), 1.0) * BAR_WIDTH)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def voters_text(count: int) -> str:
    return ngettext("{count} voter", "{count} voters", count).format(count=format_number(count))


def split_blocks(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks with blank lines into messages of at most `limit` characters.

    A block too long on its own is cut at line ends, then at spaces, never inside a word
    (unless a single word is longer than the limit).
    """
    return _pack([piece for block in blocks for piece in _fit(block, limit)], "\n\n", limit)


def _fit(block: str, limit: int) -> list[str]:
    """The block as pieces of at most `limit` characters, cut at the coarsest separator."""
    if len(block) <= limit:
        return [block]
    for separator in ("\n", " "):
        if separator in block:
            parts = [chunk for part in block.split(separator) for chunk in _fit(part, limit)]
            return _pack(parts, separator, limit)
    return [block[i : i + limit] for i in range(0, len(block), limit)]


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    """Greedily join consecutive pieces with `separator` while they fit in `limit`."""
    packed: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            packed.append(current)
            current = piece
    if current:
        packed.append(current)
    return packed
