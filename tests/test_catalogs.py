"""Every user-visible message is translated in both languages, with French typography."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.i18n import LANGUAGES, format_share, translations, using_language

pytestmark = pytest.mark.floors

ROOT = Path(__file__).resolve().parent.parent


def catalog(language: str):
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


# The tags Telegram's HTML parse mode accepts; any other "<word>" in a message would be refused.
TELEGRAM_TAGS = frozenset(
    {"a", "b", "blockquote", "code", "del", "em", "i", "ins", "pre", "s", "span", "strike"}
    | {"strong", "tg-emoji", "tg-spoiler", "u"}
)
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)[^<>]*>")
_ARGUMENT = re.compile(r"<[^<>]+>")  # a command's argument ("<id>"), escaped where it is shown


def forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def fields(text: str) -> set[str]:
    """The names of the `{format}` fields of `text` ("{count:,}" and "{user.name}" count as
    "count" and "user")."""
    return {
        re.split(r"[.\[]", name, maxsplit=1)[0]
        for _, name, _, _ in string.Formatter().parse(text)
        if name is not None
    }


def tags(text: str) -> Counter[tuple[str, bool]]:
    """The HTML tags of `text` as (name, is_closing) pairs, counted: "<b>x</b>" has one of each
    of ("b", False) and ("b", True)."""
    return Counter(
        (name.lower(), bool(slash))
        for slash, name in _TAG.findall(text)
        if name.lower() in TELEGRAM_TAGS
    )


def extracted_ids(tmp_path: Path) -> set[object]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_in_the_code_is_translated(tmp_path: Path, language: str) -> None:
    messages = {m.id: m for m in catalog(language) if m.id}
    missing = extracted_ids(tmp_path) - set(messages)
    assert not missing, f"no {language} entry for {sorted(map(str, missing))}"
    untranslated = [
        m.id
        for m in messages.values()
        if not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy
    ]
    assert not untranslated


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_fields_and_tags_of_their_message_id(language: str) -> None:
    """A translation that drops, adds or renames a `{field}`, or loses an HTML tag, fails here
    rather than in a chat (a KeyError, or Telegram refusing the message)."""
    problems = []
    for message in catalog(language):
        if not message.id:
            continue
        ids, strings = forms(message.id), forms(message.string)
        expected_fields = set().union(*map(fields, ids))
        expected_tags = tags(ids[0])
        for text in strings:
            if fields(text) != expected_fields:
                problems.append(f"{text!r}: fields {sorted(fields(text))}")
        for text in ids + strings:
            if tags(text) != expected_tags:
                problems.append(f"{text!r}: tags {sorted(tags(text).elements())}")
    assert not problems, f"{language}, not as in the message id:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_raw_angle_brackets_besides_html_tags(language: str) -> None:
    """Texts are sent as HTML: a literal "<id>" belongs in a format field, escaped, never in
    the message itself (only the command arguments, escaped where shown, are made of one)."""
    for message in catalog(language):
        if not message.id or _ARGUMENT.fullmatch(forms(message.id)[0]):
            continue
        for text in forms(message.id) + forms(message.string):
            rest = _TAG.sub(lambda tag: "" if tag[2].lower() in TELEGRAM_TAGS else tag[0], text)
            assert "<" not in rest, text
            assert ">" not in rest, text


def test_french_strings_use_french_typography() -> None:
    for message in catalog("fr"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert not re.search(r" [:?!;%»]", text), text
            assert "“" not in text, text
            assert "”" not in text, text


def test_percentages_follow_the_locale() -> None:
    with using_language("fr"):
        assert format_share(0.379) == "37,9\u00a0%"
    with using_language("en"):
        assert format_share(0.379) == "37.9%"


def test_catalogs_compile() -> None:
    assert translations("fr").ugettext("This group") == "Ce groupe"
    assert translations("en").ugettext("This group") == "This group"
