"""Fixtures: a fresh database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the
local Bot API server, and the real bot running against both."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.settings import Settings, async_database_url
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora, FakeClock, start_agora
from tests.support.processes import TOKEN, kill_leftovers

ROOT = Path(__file__).resolve().parent.parent

BACKENDS = ["sqlite", "postgresql"]


async def reset_postgresql(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        # Whatever still holds a session on this database (a bot of an earlier, interrupted
        # run) goes first: its locks would hold the DROP, its lease the next test's leader.
        await connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ))
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(autouse=True)
async def no_bot_left_behind() -> AsyncIterator[None]:
    """Kill the bot processes a test leaves running (a failed one, mostly): a leftover would
    hold the leader's lease and its locks in the next test's PostgreSQL database."""
    yield
    await kill_leftovers()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'agora.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    url = async_database_url(url)
    await reset_postgresql(url)
    return url


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    """The bot's ARTICLES_DIR: an empty folder until a test writes articles into it."""
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(api: FakeBotAPI, database_url: str, articles_dir: Path) -> Settings:
    return Settings(
        bot_token=TOKEN,  # type: ignore[arg-type]
        telegram_api_url=api.url,
        database_url=database_url,
        default_language="fr",
        rate_limit=False,
        articles_dir=articles_dir,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def clock() -> FakeClock:
    """The bot's clock: Thursday 26 November 2026, 08:00 in Paris, until a test moves it."""
    return FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))


@pytest.fixture
async def agora(api: FakeBotAPI, settings: Settings, clock: FakeClock) -> AsyncIterator[Agora]:
    async with start_agora(api, settings, clock) as running:
        yield running


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once for the tests that look into it."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(folder), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = folder.glob("*.whl")
    return built


@pytest.fixture(autouse=True)
def timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in-process bots as `python -m bot` does: with timedelta durations (PTB_TIMEDELTA)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
