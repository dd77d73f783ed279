"""Build hook: compile the gettext catalogs (.po → .mo) into the wheel, and add the articles.

Only the article files themselves (`articles/*.toml`, what `bot.core.content` loads) ship: the
third-party texts under `articles/sources/` stay in the source tree, for the tests.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogs(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        out = Path(tempfile.mkdtemp(prefix="agora-mo-"))
        for po_path in sorted(Path(self.root, "locales").glob("*/LC_MESSAGES/*.po")):
            language = po_path.parent.parent.name
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=language)
            mo_path = out / language / f"{po_path.stem}.mo"
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            target = f"bot/_data/locales/{language}/LC_MESSAGES/{po_path.stem}.mo"
            build_data["force_include"][str(mo_path)] = target
        for article in sorted(Path(self.root, "articles").glob("*.toml")):
            build_data["force_include"][str(article)] = f"bot/_data/articles/{article.name}"
