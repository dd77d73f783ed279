"""Article files for tests: variants of the packaged article under another id and date."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the project, above tests/support
PACKAGED = ROOT / "articles" / "openai-board-2023-11.toml"


def article_text(
    article_id: str,
    source_date: str = "2026-11-20",
    *,
    title_fr: str | None = None,
    title_en: str | None = None,
    retired: bool = False,
) -> str:
    """The packaged article's TOML with another id, date and titles."""
    text = PACKAGED.read_text(encoding="utf-8")
    text = text.replace('id = "openai-board-2023-11"', f'id = "{article_id}"', 1)
    text = text.replace("source_date = 2023-11-20", f"source_date = {source_date}", 1)
    # The first `fr = "…"` and `en = "…"` lines are the [title] table's.
    fr = title_fr or f"Article {article_id}"
    en = title_en or f"Article {article_id} (en)"
    text = re.sub(r'^fr = ".*"$', f'fr = "{fr}"', text, count=1, flags=re.M)
    text = re.sub(r'^en = ".*"$', f'en = "{en}"', text, count=1, flags=re.M)
    if retired:
        text = text.replace(f'id = "{article_id}"', f'id = "{article_id}"\nretired = true', 1)
    return text


def write_article(folder: Path, name: str, article_id: str, **kwargs: object) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(article_text(article_id, **kwargs), encoding="utf-8")  # type: ignore[arg-type]
    return path
