"""Articles: one data file per article, read and validated (every error names its file and
field). Which files make up the library is bot.core.library's business."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.i18n import LANGUAGES

MAX_QUESTION = 300
MAX_OPTION = 100
MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_MESSAGE = 4096
NEUTRAL_OPTION = {"fr": "Sans opinion", "en": "No opinion"}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
#: What the scaffold (bot.articles.scaffold) writes in every field a person must fill in.
TO_FILL = "✎ TO FILL"
_KIND_NAMES = {
    str: "string",
    list: "list",
    dict: "table",
    bool: "boolean (true or false)",
    date: "date (YYYY-MM-DD)",
}


class ContentError(Exception):
    """An article file is invalid; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    multiple: bool
    text: dict[str, str]
    options: dict[str, tuple[str, ...]]

    @property
    def option_count(self) -> int:
        return len(self.options[LANGUAGES[0]])


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    source_date: date
    title: dict[str, str]
    summary: dict[str, str]
    questions: tuple[Question, ...]
    # Hidden from /articles and never followed as the latest; its data stays available.
    retired: bool = False
    path: Path | None = None  # the file it was read from
    packaged: bool = False

    @property
    def where(self) -> str:
        """The file, as `check` and the logs name it."""
        if self.path is None:
            return self.id
        return f"{self.path.name} (packaged)" if self.packaged else str(self.path)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)


class _Reader:
    """Pulls typed fields out of a parsed TOML table, naming the field in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, field: str, problem: str) -> ContentError:
        return ContentError(f"{self.path.name}: {field}: {problem}")

    def get(self, table: dict[str, Any], key: str, kind: type, where: str) -> Any:
        field = f"{where}.{key}" if where else key
        if key not in table:
            raise self.fail(field, "missing")
        value: Any = table[key]
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise self.fail(field, f"expected a non-empty {_KIND_NAMES.get(kind, kind.__name__)}")
        return value

    def per_language(
        self, table: dict[str, Any], key: str, where: str, kind: type = str
    ) -> dict[str, Any]:
        values = self.get(table, key, dict, where)
        field = f"{where}.{key}" if where else key
        unknown = sorted(set(values) - set(LANGUAGES))
        if unknown:
            raise self.fail(field, f"unsupported language {unknown[0]!r} (expected fr and en)")
        return {lang: self.get(values, lang, kind, field) for lang in LANGUAGES}


def parse_article(path: Path) -> Article:
    """Read and validate one article file."""
    reader = _Reader(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ContentError(f"{path.name}: cannot be read: {exc.strerror or exc}") from None
    unfilled = list(_to_fill(data, ""))
    if unfilled:
        raise ContentError(
            f"{path.name}: {', '.join(unfilled)}: still to fill in (marked {TO_FILL!r})"
        )

    article_id = reader.get(data, "id", str, "")
    if not _ID.match(article_id):
        raise reader.fail("id", "use lowercase letters, digits and dashes")
    source_date = reader.get(data, "source_date", date, "")
    title = {
        k: _text(reader, v, f"title.{k}", 120)
        for k, v in reader.per_language(data, "title", "").items()
    }
    summary = {
        k: _text(reader, v, f"summary.{k}", MAX_MESSAGE - 200)
        for k, v in reader.per_language(data, "summary", "").items()
    }
    raw_questions = reader.get(data, "questions", list, "")
    if not raw_questions:
        raise reader.fail("questions", "at least one question is needed")
    questions = tuple(
        _question(reader, raw, f"questions[{index}]") for index, raw in enumerate(raw_questions, 1)
    )
    keys = [q.key for q in questions]
    duplicate = next((k for k in keys if keys.count(k) > 1), None)
    if duplicate:
        raise reader.fail("questions", f"key {duplicate!r} is used twice")
    retired = data.get("retired", False)
    if not isinstance(retired, bool):
        raise reader.fail("retired", f"expected a {_KIND_NAMES[bool]}")
    return Article(article_id, source_date, title, summary, questions, retired, path)


def _to_fill(value: Any, field: str) -> Iterator[str]:
    """The fields (as `check` names them) still holding the scaffold's mark."""
    if isinstance(value, str):
        if TO_FILL in value:
            yield field
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _to_fill(item, f"{field}.{key}" if field else key)
    elif isinstance(value, list):
        marked = any(next(_to_fill(item, "?"), None) for item in value)
        if marked and all(isinstance(item, dict) for item in value):
            for i, item in enumerate(value, 1):
                yield from _to_fill(item, f"{field}[{i}]")
        elif marked:
            yield field


def _text(reader: _Reader, value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise reader.fail(field, "expected a non-empty string")
    if len(value) > limit:
        raise reader.fail(field, f"{len(value)} characters, at most {limit} allowed")
    return value.strip()


def _question(reader: _Reader, raw: Any, where: str) -> Question:
    if not isinstance(raw, dict):
        raise reader.fail(where, "expected a table")
    key = reader.get(raw, "key", str, where)
    if not _KEY.match(key):
        raise reader.fail(f"{where}.key", "use lowercase letters, digits and underscores")
    multiple = reader.get(raw, "multiple", bool, where)
    text = {
        lang: _text(reader, value, f"{where}.text.{lang}", MAX_QUESTION)
        for lang, value in reader.per_language(raw, "text", where).items()
    }
    options: dict[str, tuple[str, ...]] = {}
    for lang, values in reader.per_language(raw, "options", where, list).items():
        field = f"{where}.options.{lang}"
        if not MIN_OPTIONS <= len(values) <= MAX_OPTIONS:
            raise reader.fail(
                field, f"{len(values)} options, {MIN_OPTIONS} to {MAX_OPTIONS} allowed"
            )
        options[lang] = tuple(
            _text(reader, value, f"{field}[{i}]", MAX_OPTION) for i, value in enumerate(values, 1)
        )
        if NEUTRAL_OPTION[lang] not in options[lang]:
            raise reader.fail(field, f"the neutral option {NEUTRAL_OPTION[lang]!r} is missing")
        if len(set(options[lang])) != len(options[lang]):
            raise reader.fail(field, "two options are the same")
    counts = {lang: len(values) for lang, values in options.items()}
    if len(set(counts.values())) != 1:
        raise reader.fail(
            f"{where}.options", f"languages disagree on the number of options {counts}"
        )
    if options["fr"].index(NEUTRAL_OPTION["fr"]) != options["en"].index(NEUTRAL_OPTION["en"]):
        raise reader.fail(f"{where}.options", "the neutral option is not at the same place")
    return Question(key, multiple, text, options)
