"""Every user-visible message is translated in both languages, with French typography."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, format_share, translations, using_language

ROOT = Path(__file__).resolve().parent.parent


def catalog(language: str):
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


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
