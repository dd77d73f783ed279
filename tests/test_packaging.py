"""What ships: the wheel and the sdist carry the articles, not the third-party texts behind them.

`articles/sources/` holds a news article's full text, which only the tests read (from the
source tree, see test_content.py); the Docker image is built from the wheel, and its build
context leaves the folder out too (.dockerignore).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = sorted(path.name for path in (ROOT / "articles").glob("*.toml"))
SOURCES = sorted((ROOT / "articles" / "sources").iterdir())


def test_the_source_text_is_in_the_tree_for_the_tests() -> None:
    assert ARTICLES
    assert SOURCES


def test_the_wheel_ships_the_articles_without_their_sources(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(
        name.removeprefix("bot/_data/articles/")
        for name in names
        if name.startswith("bot/_data/articles/")
    )
    assert shipped == ARTICLES
    assert not [name for name in names if "sources/" in name]
    assert not [name for name in names if any(path.name in name for path in SOURCES)]
    assert [name for name in names if name.endswith(".dist-info/licenses/LICENSE")]


def test_the_sdist_ships_the_articles_without_their_sources(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from hatchling.build import build_sdist; build_sdist({str(tmp_path)!r})",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    [sdist] = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert sorted(n.removeprefix("articles/") for n in names if n.startswith("articles/")) == (
        ARTICLES
    )
    assert not [name for name in names if "sources/" in name]
    assert "hatch_build.py" in names
    assert "LICENSE" in names


def test_the_docker_build_context_leaves_the_sources_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "articles/sources" in ignored
