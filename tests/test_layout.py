"""The house's rules (ARCHITECTURE.md): imports point from the higher rooms to the lower ones
only, and no product module or function grows past what a reader takes in at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a module may import from its own room and the rooms before it.
ROOMS = [
    "storage",
    "bot.core",
    "bot.engine",
    "bot.insights",
    "bot.digests",
    "bot.discussion",
    "bot.articles",
    "bot.report",
    "bot.leadership",
    "bot.context",
    "handlers",
    "bot.app",
    "bot.__main__",
]
# Siblings: neither imports the other.
SIBLINGS = {frozenset({"bot.discussion", "bot.articles"})}
MODULE_LINES = 300
FUNCTION_LINES = 60


def product_files() -> list[Path]:
    files = []
    for package in ("bot", "handlers", "storage"):
        files += [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def room_of(module: str) -> str | None:
    """The room of a module: the longest room name it starts with."""
    found = [r for r in ROOMS if module == r or module.startswith(r + ".")]
    return max(found, key=len) if found else None


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of Agora's own code, at any depth (lazy ones too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot":  # from bot import x: the room of bot.x
                found += [(node.lineno, f"bot.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, m) for line, m in found if m.split(".")[0] in {"bot", "handlers", "storage"}]


def test_every_product_module_has_a_room() -> None:
    homeless = [module_of(p) for p in product_files() if room_of(module_of(p)) is None]
    assert homeless == [] or homeless == ["bot"], homeless


def test_imports_point_to_lower_rooms_only() -> None:
    wrong = []
    for path in product_files():
        mine = room_of(module_of(path))
        if mine is None:
            continue
        for line, module in imports_of(path):
            theirs = room_of(module)
            assert theirs is not None, f"{path}:{line} imports {module}, which has no room"
            upward = ROOMS.index(theirs) > ROOMS.index(mine)
            if upward or frozenset({mine, theirs}) in SIBLINGS:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({mine}) imports {module}")
    assert wrong == []


def test_the_rule_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself: an engine module importing a handler is caught."""
    path = tmp_path / "bad.py"
    path.write_text("from handlers.polls import post_polls\n")
    [(line, module)] = imports_of(path)
    assert (line, room_of(module)) == (1, "handlers")
    assert ROOMS.index("handlers") > ROOMS.index("bot.engine")


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_short(path: Path) -> None:
    source = path.read_text()
    assert len(source.splitlines()) <= MODULE_LINES
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > FUNCTION_LINES
    ]
    assert long == []
