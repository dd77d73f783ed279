"""First run: every start-up failure is one line, exit code 2, and free of secrets; Telegram
out of reach at start-up is waited for; `check` validates settings; help shows defaults as
they are written."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import TOKEN
from tests.support.botapi import FakeBotAPI
from tests.test_cli import ROOT, run_bot

pytestmark = pytest.mark.floors

REJECTED = "123456789:AAHrevokedTokenNobodyShouldEverSee00000"
PASSWORD = "s3cretDatabasePassw0rd"


def only_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def no_secret(*outputs: str) -> None:
    for output in outputs:
        for secret in (TOKEN, REJECTED, PASSWORD):
            assert secret not in output


async def test_a_token_telegram_rejects_is_one_line_and_exit_2(
    api: FakeBotAPI, tmp_path: Path
) -> None:
    result = await asyncio.to_thread(
        run_bot,
        cwd=tmp_path,
        BOT_TOKEN=REJECTED,
        TELEGRAM_API_URL=api.url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'agora.db'}",
    )
    assert result.returncode == 2
    assert only_line(result.stderr) == (
        "agora: BOT_TOKEN was rejected by Telegram (revoked or mistyped?): "
        "get a token from @BotFather"
    )
    no_secret(result.stdout, result.stderr)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LOG_LEVEL": "LOUD"}, "agora: LOG_LEVEL is invalid: must be one of DEBUG, INFO, "
                                "WARNING, ERROR, CRITICAL"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1/agora"}, "agora: DATABASE_URL is invalid: not "
         "supported: use sqlite:///path/to/agora.db or postgresql://user@host/db"),
        ({"DATABASE_URL": f"postgresql://agora:{PASSWORD}@127.0.0.1:1/agora"},
         "agora: cannot open PostgreSQL at 127.0.0.1:1, database agora: "),
        ({"DATABASE_URL": "sqlite:////proc/agora/agora.db"},
         "agora: cannot open the SQLite database /proc/agora/agora.db (is its folder writable?)"),
    ],
)
async def test_bad_settings_and_databases_are_one_line_before_telegram(
    api: FakeBotAPI, tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = await asyncio.to_thread(
        run_bot, cwd=tmp_path, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.url, **env
    )
    assert result.returncode == 2, result.stderr
    assert only_line(result.stderr).startswith(expected)
    no_secret(result.stdout, result.stderr)
    assert api.calls == []  # the database is checked before Telegram is contacted


async def test_telegram_out_of_reach_at_start_is_waited_for(tmp_path: Path) -> None:
    api = FakeBotAPI(TOKEN)
    await api.start()
    url = api.url
    await api.stop()  # nothing listens there any more
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'agora.db'}",
        },
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    waited = b""
    while waited.count(b"trying again in") < 2:  # tries at 0, 1 and 3 seconds
        line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        assert line, waited.decode()  # the process ended
        waited += line
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), timeout=30)
    text = (waited + rest).decode()
    assert process.returncode == 0, text
    assert text.count("Telegram cannot be reached (NetworkError); trying again in") >= 2
    assert "Traceback" not in text
    no_secret(text)


def test_check_validates_every_setting(tmp_path: Path) -> None:
    result = run_bot("check", cwd=tmp_path, DEFAULT_LANGUAGE="de", TIMEZONE="Mars/Base")
    assert result.returncode == 2
    line = only_line(result.stderr)
    assert "DEFAULT_LANGUAGE is invalid" in line
    assert "TIMEZONE is invalid: unknown IANA time zone" in line
    fine = run_bot("check", cwd=tmp_path)
    assert fine.returncode == 0
    assert "ok: settings (BOT_TOKEN is not set: needed to run)" in fine.stdout


def test_help_shows_defaults_as_written() -> None:
    result = run_bot("--help")
    assert "(default: 09:00)" in result.stdout
    assert "(default: true)" in result.stdout
    assert "09:00:00" not in result.stdout
    assert "True" not in result.stdout
