"""Hypothesis strategies for what people send: texts as Telegram cleans them, commands in both
languages with random arguments, entities."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import note
from hypothesis import strategies as st

from bot.core.commands import COMMANDS
from tests.support.botapi import (
    utf16_len,
)
from tests.support.fuzz.common import JSON, TEXT_LIMIT, WHITESPACE, T
from tests.support.fuzz.world import command_entity


def pick(data: st.DataObject, items: Sequence[T], label: str) -> T | None:
    """One of `items`, drawn the same way whatever their number (so that an example replays
    even if the bot's messages are not exactly the same), or None if there are none."""
    index = data.draw(st.integers(0, 255), label=label)
    if not items:
        return None
    chosen = items[index % len(items)]
    note(f"{label}: {chosen!r}"[:300])
    return chosen


EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🏳️‍🌈", "❤️", "🤯", "🫠", "#️⃣", "🧑🏿‍🚀"]
SCRIPTS = [
    "Crise à la tête",
    "עברית",
    "العربية ٣٤",
    "中文字符",
    "русский",
    "ελληνικά",
    "हिन्दी",
    "\U0001d571\U0001d597\U0001d586\U0001d590\U0001d599\U0001d59a\U0001d597",  # Fraktur
    "Z̷̢a̸l̴g̷o̵",
    "ﷺ",
    "ß",
]
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u200d", "\u200e", "\u202e", "\u2028",
           "\ufeff", "\r\n", "\t", "\u00a0", "\u3000", "\ufffd", "\U000e0001"]
MARKUP = ["<b>", "</i>", "&amp;", "&", "<", ">", "<a href='x'>", "<tg-spoiler>", "&#0;",
          "</", "*bold*", "_", "`", "```", "\\", "%s", "{title}", "{0}", "/aide", "@bob"]

pieces = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(EMOJI + SCRIPTS + CONTROL + MARKUP),
)


# What Telegram does to a text before it delivers it (tdlib's clean_input_string): C0 control
# characters but the line feed become spaces, carriage returns and U+2028 to U+202E go.
CLEANED = str.maketrans(
    {**{chr(c): " " for c in range(32) if c not in (10, 13)},
     **{chr(c): None for c in (13, *range(0x2028, 0x202F))}}
)


def telegram_text(text: str) -> str:
    """As Telegram delivers a text: cleaned, trimmed, at most 4096 UTF-16 code units."""
    text = text.translate(CLEANED).strip(WHITESPACE)
    while utf16_len(text) > TEXT_LIMIT:
        text = text[: -max(1, (utf16_len(text) - TEXT_LIMIT) // 2)].rstrip(WHITESPACE)
    return text


short_texts = st.lists(pieces, min_size=1, max_size=10).map("".join)
long_texts = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["&", "<b>", "🤯", "ab ", "é\n", "👨‍👩‍👧‍👦", "x", "\u200b", "< "]),
    st.integers(1, 4100),
)
texts = st.one_of(short_texts, short_texts, short_texts, long_texts).map(telegram_text)

NUMBERS = ["0", "1", "2", "7", "#1", "#", "-1", "²", "٣", "\uff11", "999999999999999999",
           "9" * 19, "2147483648", "1e3", "0x10", "1_000", "3.0"]
ZONES = ["Europe/Paris", "America/Montreal", "Etc/GMT+5", "UTC", "utc", "EUROPE/PARIS",
         "../../etc/passwd", "/etc/localtime", "posixrules", "Factory", "zone.tab",
         "Europe/Paris\x00", "Europe/", "Mars/Olympus_Mons", "+02:00"]
WORDS = {  # arguments each command understands, and near misses
    "poll": ["anonyme", "anonymous", "ANON", "anon", "anonymes", "public"],
    "lang": ["fr", "en", "EN", "Fr", "de", "fr-CA", "français", "en_US", ""],
    "digest": ["on", "off", "now", "maintenant", "oui", "non", "Désactiver", "ARRÊT", "yes",
               "marche", "18:30", "9h05", "0:00", "23:59", "24:00", "23:60", "99:99", "1:2",
               "١٢:٣٠", "18:30:00", "18h", "-1:30"],
    "timezone": ZONES,
    "article": ["openai-board-2023-11", "OPENAI-BOARD-2023-11", "openai", "../x", "nope"],
    "delete": NUMBERS,
}
COMMAND_WORDS = {name: WORDS.get(c.en, NUMBERS) for c in COMMANDS for name in c.names}
NAMES = sorted([*COMMAND_WORDS, "start"])

arguments = st.one_of(
    short_texts,
    long_texts,
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300),
    st.sampled_from(NUMBERS + sorted({w for words in WORDS.values() for w in words})),
)


@st.composite
def command_texts(draw: st.DrawFn) -> str:
    """A command (the bot's, in either language, in capitals, or another), addressed or not,
    with arguments it understands, near misses, numbers and any text."""
    name = draw(st.sampled_from(NAMES), label="command name")
    name = draw(st.sampled_from([name, name, name, name.upper(), name + "s", "x", "a" * 40]))
    at = draw(st.sampled_from(["", "", "", "@agora_test_bot", "@Agora_Test_Bot", "@other_bot",
                               "@"]))
    separator = draw(st.sampled_from([" ", " ", "  ", "\n", "\t", "\u00a0"]))
    own = st.sampled_from(COMMAND_WORDS.get(name, NUMBERS))
    args = draw(st.lists(st.one_of(own, own, arguments), max_size=3))
    return telegram_text(f"/{name}{at}" + "".join(separator + a for a in args))


@st.composite
def entities_for(draw: st.DrawFn, text: str) -> list[JSON]:
    """Entities on `text` as Telegram gives them (UTF-16 offsets over whole characters),
    after the command's if any."""
    found = command_entity(text)
    boundaries = [utf16_len(text[:i]) for i in range(len(text) + 1)]
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, min(len(text), start + 50)))
        kind = draw(
            st.sampled_from(
                ["bold", "italic", "spoiler", "code", "url", "mention", "hashtag", "text_link",
                 "bot_command", "custom_emoji", "blockquote"]
            )
        )
        entity: JSON = {
            "offset": boundaries[start],
            "length": boundaries[end] - boundaries[start],
            "type": kind,
        }
        if kind == "text_link":
            entity["url"] = "https://example.org/<x>"
        if kind == "custom_emoji":
            entity["custom_emoji_id"] = "5368324170671202286"
        found.append(entity)
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))


