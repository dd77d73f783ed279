"""Bot processes (`python -m bot`) for the tests that kill, restart or run several of them.

Every process started here is remembered until the end of its test, when the `conftest`
fixture kills those still running: a bot left behind by a failed test would keep its
PostgreSQL session, and with it the leader's lease and its locks, into the next test.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from tests.support.botapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "123456789:AAHfakeTokenForTestsOnly0123456789abcd"

_running: list[asyncio.subprocess.Process] = []


async def bot_process(
    api: FakeBotAPI,
    database_url: str,
    *,
    rate_limit: bool = False,
    stdout: int = asyncio.subprocess.PIPE,
    **settings: str,
) -> asyncio.subprocess.Process:
    """`python -m bot` against the local server and `database_url` (`settings`: more
    environment variables, or other values for these)."""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.url,
        "DATABASE_URL": database_url,
        "RATE_LIMIT": "true" if rate_limit else "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        cwd=ROOT,
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )
    _running.append(process)
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.kill()  # SIGKILL: no chance to finish anything
    await process.wait()


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM: the process must exit cleanly within 30 s; what it wrote to stderr."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode(errors="replace")
    assert process.returncode == 0, log[-2000:]
    return log


async def last_words(process: asyncio.subprocess.Process) -> str:
    """For a test that gave up waiting on the bot: stop it (SIGTERM, then SIGKILL after 10 s)
    and return the end of what it wrote to stderr, to say why in the failure."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=10)
    except TimeoutError:
        process.kill()
        _, stderr = await process.communicate()
    return (stderr or b"").decode(errors="replace")[-4000:]


async def kill_leftovers() -> None:
    """SIGKILL the processes of the test that has just ended which still run."""
    while _running:
        process = _running.pop()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
