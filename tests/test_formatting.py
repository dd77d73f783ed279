"""Splitting long texts for Telegram's 4,096-character limit."""

from __future__ import annotations

import random

from bot.core.formatting import (
    Pages,
    bar,
    echo,
    escape,
    plain_text,
    split_blocks,
    telegram_length,
)
from tests.support.botapi import parse_html, utf16_len


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


def as_telegram_counts(html_text: str) -> int:
    """What the local Bot API server (like Telegram) counts: UTF-16 units once parsed."""
    return utf16_len(parse_html(html_text)[0])


def test_length_is_counted_as_telegram_counts() -> None:
    assert telegram_length("<b>&lt;b&gt;</b> 😀") == 6  # "<b> " and an emoji counting two
    assert telegram_length("a &amp; b &quot;c&quot; &#128512; &#x1F600;") == 15
    assert telegram_length("&amp;lt; &#38;lt;") == 9  # "&lt; &lt;": decoded once only
    for text in ("<i>#12 · Ève, 26/11/2026</i>\n" + escape("<&> 🤯🇫🇷 עברית"), "plain"):
        assert telegram_length(text) == as_telegram_counts(text)
    rng = random.Random(8)
    for _ in range(300):
        pieces = ["".join(rng.choices("aé😀<>&\"'\n 🇫🇷;#", k=rng.randrange(30))) for _ in range(3)]
        text = "<b>{}</b>{}<i>{}</i>".format(*(escape(piece) for piece in pieces))
        assert telegram_length(text) == as_telegram_counts(text), text


def test_split_blocks_counts_emoji_twice_and_entities_once() -> None:
    emoji = " ".join(["🤯"] * 3000)  # 5,999 characters, 8,999 UTF-16 units
    parts = split_blocks([emoji])
    assert len(parts) == 3
    assert all(as_telegram_counts(part) <= 4096 for part in parts)
    assert " ".join(parts) == emoji
    escaped = escape("<&" * 1500)  # 12,000 characters of HTML, 3,000 characters of text
    assert split_blocks([escaped]) == [escaped]


def test_a_word_longer_than_the_limit_is_never_cut_inside_an_entity_or_a_tag() -> None:
    word = "<b>" + escape("a<&😀" * 100) + "</b>"
    parts = split_blocks([word], limit=50)
    assert "".join(parts) == word
    for part in parts:
        parse_html(part.removeprefix("<b>").removesuffix("</b>"))  # no entity cut in two
        assert telegram_length(part) <= 50


def test_pages_are_packed_greedily_and_the_same_every_time() -> None:
    def place(sizes: list[tuple[int, int]]) -> list[int]:
        pages = Pages(10)
        return [pages.add(alone, after) for alone, after in sizes]

    sizes = [(4, 3)] * 4 + [(5, 2), (12, 12), (1, 1)]
    # 4 + 3 + 3 = 10 fits, a fourth does not; an item too long alone gets its own page.
    assert place(sizes) == [0, 0, 0, 1, 1, 2, 3]
    assert place(sizes) == place(sizes)


def test_plain_text_is_the_text_telegram_shows() -> None:
    samples = [
        "<b>Avis n°12</b> — « texte »\n<i>Ada</i>",
        "  a &amp; b &lt;c&gt; &quot;d&quot; &#128512; &#x1F600; <code>x</code>  ",
        '<a href="https://example.org/?a=1&amp;b=2">lien</a> 🗳',
    ]
    for html in samples:
        assert plain_text(html) == parse_html(html)[0].strip()


def test_what_someone_typed_is_echoed_short_and_inert() -> None:
    assert echo("public") == "public"
    assert echo("<b>" * 20) == "&lt;b&gt;" * 10 + "&lt;…"  # cut, then escaped: no half entity
    assert echo("🗳" * 2000, 64) == "🗳" * 63 + "…"
    assert telegram_length(echo("🗳" * 2000)) == 63  # 31 emoji counting two, and "…"
