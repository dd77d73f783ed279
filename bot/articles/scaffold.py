"""`python -m bot new-article`: an article file started from the article's plain text.

The closing questions are recognised from the end of the text: the text is cut into lines,
and each line where a sentence ends glued to the next one (".Quel", "?Que": the line breaks
lost when a page is copied) into pieces; the trailing pieces that end with a question mark
(perhaps followed by a closing quote or bracket) are the questions, in order and verbatim. A
piece such as "Quels sont les risques ? L'entreprise va-t-elle s'effondrer ?" (a space after
the first mark) stays one question. The first piece from the end that is not a question
stops the search.

Everything a person must write (titles, summaries, the other language's questions, options,
whether several answers are allowed) holds `TO_FILL`, which `check` refuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.core.content import _ID, MAX_QUESTION, NEUTRAL_OPTION, TO_FILL
from bot.core.i18n import LANGUAGES

# A sentence's end glued to the next sentence's capital letter: a lost line break.
_GLUED = re.compile(r"(?<=[.?!…»”\"])(?=[A-ZÀ-ÖØ-Þ«“\"])")
_QUESTION_END = re.compile(r"\?[\s\"»”\u2019)\]]*$")
_FRENCH_WORDS = frozenset({"le", "la", "les", "des", "est", "une", "du", "et", "que", "qui"})
_ENGLISH_WORDS = frozenset({"the", "of", "and", "is", "are", "to", "in", "that", "for", "was"})
OPTIONS_TO_WRITE = 3  # placeholders offered before the neutral option


class ScaffoldError(Exception):
    """The scaffold cannot be written; the message says why, for the command line."""


def pieces(text: str) -> list[str]:
    """The text's lines, each cut where two sentences are glued together, stripped."""
    found = []
    for line in text.splitlines():
        found += [piece.strip() for piece in _GLUED.split(line) if piece.strip()]
    return found


def closing_questions(text: str) -> list[str]:
    """The questions the text ends with, in order, as written."""
    questions: list[str] = []
    for piece in reversed(pieces(text)):
        if not _QUESTION_END.search(piece):
            break
        questions.append(piece)
    return questions[::-1]


def guess_language(text: str) -> str:
    """fr or en, from the most common short words."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    french = sum(word in _FRENCH_WORDS for word in words)
    english = sum(word in _ENGLISH_WORDS for word in words)
    return "fr" if french >= english else "en"


def default_id(source: Path) -> str:
    """An id from the source's file name: lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", source.stem.lower()).strip("-")[:41].strip("-")
    if not _ID.match(slug):
        raise ScaffoldError(f"cannot make an id from {source.name!r}: give one with --id")
    return slug


def toml_string(value: str) -> str:
    """A TOML basic string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def _fill(what: str) -> str:
    return toml_string(f"{TO_FILL}: {what}")


@dataclass(frozen=True, slots=True)
class Scaffold:
    article: Path
    source: Path
    questions: list[str]
    language: str


def article_toml(
    article_id: str, day: date, source_name: str, language: str, questions: list[str]
) -> str:
    """The scaffold's text."""
    other = next(lang for lang in LANGUAGES if lang != language)
    names = {"fr": "French", "en": "English"}
    lines = [
        f"# Started by `python -m bot new-article` from {source_name}.",
        f"# Replace every value marked {TO_FILL!r}, then run `python -m bot check`: it refuses",
        "# this file while one is left. Options: 2 to 12, at most 100 characters each, the",
        "# same number in both languages, the neutral one included; questions at most",
        f"# {MAX_QUESTION} characters. `retired = true` hides the article from /articles.",
        f"id = {toml_string(article_id)}",
        f"source_date = {day.isoformat()}",
        f"source = {toml_string(source_name)}",
        "",
        "[title]",
        *(f"{lang} = {_fill(f'the title in {names[lang]}')}" for lang in LANGUAGES),
        "",
        "[summary]",
        *(
            f"{lang} = {_fill(f'the summary in {names[lang]} (paragraphs separated by a blank line)')}"  # noqa: E501
            for lang in LANGUAGES
        ),
    ]
    if not questions:
        questions = [f"{TO_FILL}: no closing question was found; write the first one"]
    for number, question in enumerate(questions, 1):
        text = {language: toml_string(question), other: _fill(f"the question in {names[other]}")}
        lines += [
            "",
            "[[questions]]",
            f"key = {toml_string(f'q{number}')}",
            f"multiple = {_fill('true if several answers are allowed, else false')}",
            *(f"text.{lang} = {text[lang]}" for lang in LANGUAGES),
        ]
        for lang in LANGUAGES:
            options = [_fill(f"an answer in {names[lang]}")] * OPTIONS_TO_WRITE
            options.append(toml_string(NEUTRAL_OPTION[lang]))
            lines.append(f"options.{lang} = [{', '.join(options)}]")
    return "\n".join(lines) + "\n"


def write_scaffold(
    source: Path, folder: Path, article_id: str | None, day: date, language: str | None
) -> Scaffold:
    """Write `ID.toml` into `folder` and the source text beside it (`sources/ID.txt`); never
    overwrites either."""
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScaffoldError(f"cannot read {source}: {exc}") from None
    article_id = article_id if article_id is not None else default_id(source)
    if not _ID.match(article_id):
        raise ScaffoldError(
            f"the id {article_id!r} is not valid: lowercase letters, digits and dashes"
        )
    language = language or guess_language(text)
    article = folder / f"{article_id}.toml"
    kept = folder / "sources" / f"{article_id}.txt"
    for path in (article, kept):
        if path.exists():
            raise ScaffoldError(f"{path} already exists: nothing was written")
    questions = closing_questions(text)
    content = article_toml(article_id, day, f"sources/{kept.name}", language, questions)
    kept.parent.mkdir(parents=True, exist_ok=True)
    try:
        with kept.open("x", encoding="utf-8") as out:
            out.write(text)
        with article.open("x", encoding="utf-8") as out:
            out.write(content)
    except FileExistsError as exc:
        raise ScaffoldError(f"{exc.filename} already exists: nothing was written") from None
    return Scaffold(article, kept, questions, language)
