"""Splitting long texts for Telegram's 4,096-character limit."""

from __future__ import annotations

from bot.formatting import bar, split_blocks


def test_blocks_are_packed_without_cutting_words() -> None:
    words = [f"mot{n}" for n in range(3000)]
    blocks = [" ".join(words[i : i + 100]) for i in range(0, 3000, 100)]
    parts = split_blocks(blocks, limit=1000)
    assert all(len(part) <= 1000 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(words)  # nothing lost or cut
    assert all(not part.startswith(" ") and not part.endswith(" ") for part in parts)


def test_a_block_longer_than_a_message_is_cut_between_lines_then_words() -> None:
    block = "\n".join("ligne " + "x" * 50 for _ in range(100))
    parts = split_blocks([block], limit=500)
    assert all(len(part) <= 500 for part in parts)
    assert "\n".join(parts) == block
    one_line = ("a " * 1000).strip()
    parts = split_blocks([one_line], limit=300)
    assert all(len(part) <= 300 for part in parts)
    assert " ".join(parts) == one_line


def test_short_blocks_share_a_message() -> None:
    assert split_blocks(["un", "deux"]) == ["un\n\ndeux"]


def test_bars() -> None:
    assert bar(0.379) == "████░░░░░░"
    assert bar(1.7) == "██████████"  # multiple answers can exceed 100 %
    assert bar(0) == "░" * 10
