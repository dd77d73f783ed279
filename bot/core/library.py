"""The library of articles: the packaged ones, which ship with the bot, and every `*.toml` of
`ARTICLES_DIR` beside them (ids unique across both). A packaged file that is invalid is a
broken installation; a file of the folder that is invalid is reported and left out (`scan`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.content import Article, ContentError, parse_article
from bot.core.resources import data_dir


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
