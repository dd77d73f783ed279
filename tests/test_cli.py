"""`python -m bot`: settings errors, help, content check; and a plain `pip install .`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "987654321:THISisAfakeSecretThatMustNeverLeak12345"


def run_bot(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    clean.setdefault("PYTHONPATH", str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_token_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    result = run_bot(cwd=tmp_path, PYTHONPATH=str(ROOT))
    assert result.returncode == 2
    assert result.stderr.strip() == "agora: BOT_TOKEN is not set"


def test_malformed_token_is_not_echoed(tmp_path: Path) -> None:
    bad = "12345-not-a-token-" + SECRET
    result = run_bot(cwd=tmp_path, BOT_TOKEN=bad, PYTHONPATH=str(ROOT))
    assert result.returncode == 2
    assert "BOT_TOKEN is malformed" in result.stderr
    assert "Traceback" not in result.stderr
    assert bad not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_lists_every_setting() -> None:
    result = run_bot("--help")
    assert result.returncode == 0
    for name in ("BOT_TOKEN", "TELEGRAM_API_URL", "DATABASE_URL", "DEFAULT_LANGUAGE"):
        assert name in result.stdout


def test_check_validates_the_articles_without_a_token() -> None:
    result = run_bot("check")
    assert result.returncode == 0
    assert "ok: openai-board-2023-11 (6 questions)" in result.stdout


def test_the_wheel_carries_catalogs_articles_and_migrations(
    wheel: Path, tmp_path: Path
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for language in ("fr", "en"):
        assert f"bot/_data/locales/{language}/LC_MESSAGES/messages.mo" in names
    assert "bot/_data/articles/openai-board-2023-11.toml" in names
    assert "storage/migrations/versions/0001_core.py" in names
    # Installed (not editable) and run from elsewhere, it finds its data.
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    result = run_bot("check", cwd=tmp_path, PYTHONPATH=str(target))
    assert result.returncode == 0, result.stderr
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot.core.i18n as i; print(i.translations('fr').ugettext("
            "'This group')); print(i.data_dir('locales'))",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.splitlines()[0] == "Ce groupe"
    assert str(target) in probe.stdout


def test_outbox_status_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'agora.db'}"
    empty = run_bot("outbox", cwd=tmp_path, BOT_TOKEN=SECRET, DATABASE_URL=url)
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip().splitlines() == [
        "outbox: 0 waiting (answers 0, polls 0, digests 0, announcements 0); "
        "kept from the last 3 days: 0 sent, 0 dropped",
        "inbox: 0 waiting to be handled (0 postponed); 0 set aside (kept 7 days)",
    ]

    async def queue() -> None:
        from bot.engine import outbox
        from bot.engine.outbox import Priority
        from bot.engine.transaction import Work
        from storage.db import Database
        from storage.inbox import Received, store

        database = Database(url)
        await database.migrate()
        async with Work(database, lambda rows: None).unit():
            outbox.send_text(1, "a reply")
            for chat in range(2, 5):
                outbox.send_text(-chat, "a digest", priority=Priority.DIGEST)
        async with database.transaction() as session:  # received, not yet handled
            await store(session, [Received(7, 1, '{"update_id": 7}')], datetime.now(UTC),
                        watermark=False)
        await database.dispose()

    asyncio.run(queue())
    waiting = run_bot("outbox", cwd=tmp_path, BOT_TOKEN=SECRET, DATABASE_URL=url)
    assert waiting.stdout.startswith(
        "outbox: 4 waiting (answers 1, polls 0, digests 3, announcements 0), the oldest queued "
    )
    assert waiting.stdout.splitlines()[1].startswith(
        "inbox: 1 waiting to be handled (0 postponed), the oldest received "
    )
    assert SECRET not in waiting.stdout + waiting.stderr
