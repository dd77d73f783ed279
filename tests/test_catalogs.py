"""Every user-visible message is translated in both languages, with French typography."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.core.i18n import (
    LANGUAGES,
    format_day_time,
    format_long_date,
    format_share,
    translations,
    using_language,
)
from bot.core.library import load_library
from bot.insights.results_text import share_text, signed_points, voters_change
from bot.insights.verdicts import verdict
from storage.polls import QuestionTally

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


# The typography a French or British reader expects, checked where it can be: on both
# catalogs, on the article files, and on the statistics lines as the bot writes them.
NBSP, NNBSP, MINUS = "\u00a0", "\u202f", "\u2212"
# US forms (British English is held throughout: bot.i18n.FORMAT_LOCALES): -ize spellings,
# -or for -our, center, canceled, the 12-hour clock, the month before the day.
US_FORMS = re.compile(
    r"\b\w{3,}iz(?:e|es|ed|ing|ation|ations)\b|\b(?:favor|color|behavior|honor|labor)\w*"
    r"|\bcenters?\b|\banalyz\w*|\bcanceled\b|\bouster\b|\bcofounders?\b|\b[AP]M\b"
    r"|\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December) \d{1,2}\b"
)


def french_texts() -> list[str]:
    """Every French text users read: the catalog's translations and the articles' text."""
    texts = [text for m in catalog("fr") if m.id for text in forms(m.string)]
    for article in load_library().articles:
        texts += [article.title["fr"], article.summary["fr"]]
        for question in article.questions:
            texts += [question.text["fr"], *question.options["fr"]]
    return texts


def english_texts() -> list[str]:
    texts = [text for m in catalog("en") if m.id for text in forms(m.string)]
    for article in load_library().articles:
        texts += [article.title["en"], article.summary["en"]]
        for question in article.questions:
            texts += [question.text["en"], *question.options["en"]]
    return texts


def test_french_spaces_apostrophes_and_guillemets() -> None:
    """A narrow no-break space before ; ! ? and a no-break space before : and %, inside « »
    (one kind of space for each sign, everywhere); the typographic apostrophe."""
    for text in french_texts():
        assert not re.search(r"[ \u00a0][;!?]", text), text
        assert not re.search(r"[ \u202f][:%»]", text), text
        assert not re.search(r"«[^\u00a0]|[^\u00a0]»", text), text
        assert "'" not in text, text
        assert not re.search(r"\w:", re.sub(r"\d:\d|HH:MM|https?:", "", text)), text


def test_english_is_british_and_typeset() -> None:
    for text in english_texts():
        assert not US_FORMS.findall(text), text
        assert '"' not in text, text  # curly quotes, as in the catalogs
    moment = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
    with using_language("en"):
        assert format_long_date(date(2026, 11, 26)) == "Thursday, 26 November 2026"
        assert format_day_time(moment) == "Thursday, 26 November at 18:30"
    with using_language("fr"):
        assert format_day_time(moment) == "jeudi 26 novembre à 18:30"


@pytest.mark.parametrize("language", LANGUAGES)
def test_changes_in_points_use_the_minus_sign_and_a_space_that_does_not_break(
    language: str,
) -> None:
    with using_language(language):
        for points in (-0.8, 2.1, -26.7):
            text = signed_points(points)
            assert "-" not in text, text
            assert " " not in text, text
            assert re.fullmatch(rf"[+{MINUS}]\d+[.,]\d{NBSP}pts?", text), text
        before, now = QuestionTally(20, {0: 12, 1: 8}), QuestionTally(18, {0: 8, 1: 10})
        assert voters_change(now, before).endswith(f"({MINUS}2)")
        assert f"{MINUS}15" in share_text(now, 0, before)


def verdicts(language: str) -> list[str]:
    """Each kind of verdict, here and in all chats, as the bot writes it."""
    question = load_library().newest.questions[1]
    tallies = [
        QuestionTally(4, {0: 3, 1: 1}),  # too few voters
        QuestionTally(30, {2: 16, 0: 14}),  # neck and neck
        QuestionTally(30, {2: 24, 0: 6}),  # a leader
    ]
    with using_language(language):
        return [
            verdict(question, tally, f" (+{format_share(0.021)})", everywhere)
            for tally in tallies
            for everywhere in (False, True)
        ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_verdicts_have_no_capital_after_a_colon_and_quote_every_option(language: str) -> None:
    open_quote, close_quote = ("«" + NBSP, NBSP + "»") if language == "fr" else ("“", "”")
    options = load_library().newest.questions[1].options[language]
    for number, text in enumerate(verdicts(language)):
        assert not re.search(r":\s*[A-ZÀ-Ý]", text), text
        assert text.count(":") <= 1, text  # never two colons in a row
        named = [option for option in options if option in text]
        assert len(named) == (0 if number < 2 else 2 if number < 4 else 1), text
        for option in named:
            assert f"{open_quote}{option}{close_quote}" in text, text
