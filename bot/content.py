"""Articles: loading and validating the data files, one per article, that the polls come from.

The packaged articles ship with the bot; `ARTICLES_DIR` adds any number of `*.toml` files
beside them (ids unique across both). A packaged file that is invalid is a broken
installation; a file of the folder that is invalid is reported and left out (see `scan`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from bot.i18n import LANGUAGES
from bot.resources import data_dir

MAX_QUESTION = 300
MAX_OPTION = 100
MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_MESSAGE = 4096
NEUTRAL_OPTION = {"fr": "Sans opinion", "en": "No opinion"}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
#: What the scaffold (bot.scaffold) writes in every field a person must fill in.
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


@dataclass(frozen=True, slots=True)
class Library:
    """Every article, newest first (retired ones included: their results stay readable)."""

    articles: tuple[Article, ...]

    def get(self, article_id: str | None) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)

    @property
    def listed(self) -> tuple[Article, ...]:
        """What /articles shows: every article but the retired ones."""
        return tuple(a for a in self.articles if not a.retired)

    @property
    def latest(self) -> Article | None:
        """The newest article that is not retired: what following chats discuss."""
        return next((a for a in self.articles if not a.retired), None)

    @property
    def newest(self) -> Article:
        """The latest article, or the newest of all when every one is retired."""
        return self.latest or self.articles[0]

    def current(self, follows_latest: bool, chosen: str | None) -> Article:
        """A chat's article: the latest if it follows it, else its choice while it exists."""
        return self.newest if follows_latest else (self.get(chosen) or self.newest)


@dataclass(frozen=True, slots=True)
class Scan:
    """The articles found, and what was wrong with the files left out (one line each)."""

    library: Library
    errors: tuple[str, ...]


def read_folder(folder: Path) -> dict[Path, Article | ContentError]:
    """Every `*.toml` of `folder`, read and validated one by one (a missing folder: none)."""
    if not folder.is_dir():
        return {}
    found: dict[Path, Article | ContentError] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            found[path] = parse_article(path)
        except ContentError as exc:
            found[path] = exc
    return found


def packaged_articles(folder: Path | None = None) -> list[Article]:
    """The articles that ship with the bot; any error here is fatal (a broken install)."""
    folder = folder or data_dir("articles")
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise ContentError(f"{folder}: no article (*.toml) found")
    articles = []
    for path in paths:
        article = parse_article(path)
        articles.append(replace(article, packaged=True))
    ids = [a.id for a in articles]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        first, second = [a.path.name for a in articles if a.id == duplicate and a.path][:2]
        raise ContentError(f"{first} and {second} both use the id {duplicate!r}")
    return articles


def assemble(
    packaged: list[Article],
    folder: dict[Path, Article | ContentError],
    previous: Library | None = None,
) -> Scan:
    """The library from the packaged articles and the folder's files. An invalid file is left
    out, or keeps its previously loaded version (`previous`, on a reload); of two files with
    one id, the one already loaded (else the packaged one, else the first by name) stays and
    the other is an error naming both."""
    errors: list[str] = []
    before = {a.path: a for a in previous.articles} if previous is not None else {}
    candidates: list[Article] = []
    for path, result in folder.items():
        if isinstance(result, ContentError):
            kept = before.get(path)
            kept_note = " (its previous version stays loaded)" if kept is not None else ""
            errors.append(f"{path}: {_without_name(result, path)}{kept_note}")
            if kept is not None:
                candidates.append(kept)
        else:
            candidates.append(result)
    # Who keeps a contested id: whoever had it already.
    holders = {a.id: a.path for a in before.values()}
    candidates.sort(key=lambda a: (holders.get(a.id) != a.path, str(a.path)))
    chosen = {a.id: a for a in packaged}
    for article in candidates:
        other = chosen.get(article.id)
        if other is not None:
            errors.append(
                f"{article.where}: id: {article.id!r} is already used by {other.where}; "
                "this file is left out"
            )
            continue
        chosen[article.id] = article
    ordered = sorted(chosen.values(), key=lambda a: (a.source_date, a.id), reverse=True)
    return Scan(Library(tuple(ordered)), tuple(errors))


def scan(articles_dir: Path | None, previous: Library | None = None) -> Scan:
    """The packaged articles and those of `articles_dir` (see `assemble`)."""
    return assemble(
        packaged_articles(), read_folder(articles_dir) if articles_dir else {}, previous
    )


def load_library(folder: Path | None = None) -> Library:
    """Load and validate every `*.toml` article of `folder` (default: the packaged articles)."""
    return Library(
        tuple(
            sorted(
                packaged_articles(folder), key=lambda a: (a.source_date, a.id), reverse=True
            )
        )
    )


def _without_name(error: ContentError, path: Path) -> str:
    """An error's text without the file name it starts with (the caller names the path)."""
    return str(error).removeprefix(f"{path.name}: ")
