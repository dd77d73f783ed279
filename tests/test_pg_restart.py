"""PostgreSQL restarted in the middle of a /sondage and a vote storm: the bot, left running,
records every poll, sends none twice, counts every vote once and is back to normal within
30 s of the database, without a restart of its own.

The test runs a PostgreSQL of its own (initdb into a temporary folder, pg_ctl on a free port
of 127.0.0.1), so that stopping it disturbs no other test; it is skipped where the server's
binaries or the `postgres` system user are missing.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.settings import async_database_url
from storage.models import Ballot, InboxUpdate, OutboxMessage, PollTally, PostedPoll
from tests.support.botapi import FakeBotAPI
from tests.support.harness import assert_counts_are_the_answers
from tests.support.processes import TOKEN, bot_process
from tests.test_reliability import sent_count
from tests.test_webhook import free_port

pytestmark = pytest.mark.slow

BIN = Path(os.environ.get("AGORA_PG_BIN", "/usr/lib/postgresql/15/bin"))
OUTAGE = 3.0  # seconds PostgreSQL stays down
RECOVERY = 30.0  # seconds the bot has, from PostgreSQL back, to be back to normal
VOTERS = 800
CHANGES = 200  # of those voters, how many answer again with another choice


class OwnPostgreSQL:
    """A throwaway PostgreSQL cluster, run as the `postgres` system user (initdb and postgres
    refuse root), trusting local connections."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="agora-pgrestart-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.url = async_database_url(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        account = pwd.getpwnam("postgres")
        os.chown(self.folder, account.pw_uid, account.pw_gid)

    def _run(self, *command: str, timeout: float = 60) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{command[0]} failed: {done.stderr or done.stdout}\n{log}")

    def init(self) -> None:
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        # fsync off: a stop in "immediate" mode kills the server, not the machine, so what
        # was committed is in the system's cache and survives (synchronous_commit stays on:
        # off, an immediate stop would lose the last commits).
        options = (
            f"-F -c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.folder} -c max_connections=50"
        )
        self._run(str(BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                  "-l", str(self.log), "-o", options)

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(BIN / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data))

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                ["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "stop", "-w",
                 "-m", "immediate", "-D", str(self.data)],
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def own_postgresql() -> Iterator[OwnPostgreSQL]:
    """A PostgreSQL of this test's own, stopped and removed afterwards, failure or not."""
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (BIN / name).exists()]
    if missing:
        pytest.skip(f"PostgreSQL server binaries not found in {BIN}: {', '.join(missing)}")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no `postgres` system user to run initdb and postgres as")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is needed to run PostgreSQL as the `postgres` user")
    server = OwnPostgreSQL()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


def choice_for(poll: dict[str, Any], rng: random.Random, *, other_than: list[int] | None = None
               ) -> list[int]:
    """A valid answer to the poll (for a voter changing theirs: a different one)."""
    count = len(poll["options"])
    while True:
        if poll["allows_multiple_answers"]:
            choice = sorted(rng.sample(range(count), rng.randint(1, 3)))
        else:
            choice = [rng.randrange(count)]
        if choice != other_than:
            return choice


async def back_to_normal(engine: AsyncEngine, expected_votes: int) -> dict[str, int]:
    """What the database holds that says whether the bot is done: polls recorded, updates
    waiting in the inbox, outbox rows not sent, ballots and the votes they add up to."""
    async with engine.connect() as connection:
        polls = await connection.scalar(select(func.count()).select_from(PostedPoll))
        inbox = await connection.scalar(select(func.count()).select_from(InboxUpdate))
        unsent = await connection.scalar(
            select(func.count()).where(OutboxMessage.status != "sent")
        )
        claimed = await connection.scalar(
            select(func.count()).where(
                OutboxMessage.status == "pending", OutboxMessage.claimed_until.is_not(None)
            )
        )
        ballots = await connection.scalar(select(func.count()).select_from(Ballot))
        votes = await connection.scalar(select(func.coalesce(func.sum(PollTally.votes), 0)))
    return {
        "polls": int(polls or 0),
        "inbox": int(inbox or 0),
        "unsent": int(unsent or 0),
        "claimed": int(claimed or 0),
        "ballots": int(ballots or 0),
        "votes": int(votes or 0),
        "expected_votes": expected_votes,
    }


async def test_postgresql_restarted_during_a_poll_command_and_a_vote_storm(
    api: FakeBotAPI, own_postgresql: OwnPostgreSQL
) -> None:
    database_url = own_postgresql.url
    group = api.group(-100900, "Débat")
    admin = api.user(10, "Ada")
    api.set_admin(group["id"], admin)
    level = os.environ.get("LOG_LEVEL", "WARNING")
    process = await bot_process(
        api, database_url, stdout=asyncio.subprocess.DEVNULL, LOG_LEVEL=level
    )
    try:
        await api.wait_acked(api.send_text(group, admin, "/aide"), timeout=60)
        await sent_count(api, "sendMessage", 1, chat_id=group["id"])

        # The instant Telegram has made the first poll, before the bot hears its answer,
        # PostgreSQL goes down (the server's loop is held while pg_ctl runs): the bot must
        # record that poll later from the answer it keeps, and not send it again.
        stopped_at: list[float] = []

        def database_down(_poll_message: dict[str, Any]) -> None:
            if not stopped_at:
                own_postgresql.stop("immediate")
                stopped_at.append(time.monotonic())

        api.on_result["sendPoll"] = database_down
        api.send_text(group, admin, "/sondage")
        await sent_count(api, "sendPoll", 1)
        assert stopped_at, "PostgreSQL was not stopped at the first poll"
        first_poll = api.sent(method="sendPoll")[0]["poll"]

        # The storm, during the outage: only the first poll exists on Telegram's side.
        rng = random.Random(5)
        final: dict[tuple[str, int], list[int]] = {}
        voters = [api.user(30_000 + n, f"V{n}") for n in range(VOTERS)]
        during = voters[: VOTERS // 2]
        voted_during = {voter["id"] for voter in during}
        for voter in during:
            choice = choice_for(first_poll, rng)
            api.vote(first_poll["id"], voter, choice)
            final[(first_poll["id"], voter["id"])] = choice
        # Some change their answer while the database is still down.
        for voter in during[: CHANGES // 2]:
            key = (first_poll["id"], voter["id"])
            final[key] = choice_for(first_poll, rng, other_than=final[key])
            api.vote(first_poll["id"], voter, final[key])
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - stopped_at[0])))
        assert len(api.sent(method="sendPoll")) == 1, "a poll went out with the database down"
        assert api.pending_count() > 0, "the storm was acknowledged with the database down"

        await asyncio.to_thread(own_postgresql.start)
        back_at = time.monotonic()
        deadline = back_at + RECOVERY

        # The storm goes on once PostgreSQL is back: the other polls as they come, the rest of
        # the voters, and more changes of answer (on the first poll too).
        async with asyncio.timeout(RECOVERY):
            await sent_count(api, "sendPoll", 6)
        polls = [m["poll"] for m in api.sent(method="sendPoll")]
        for n, voter in enumerate(voters):
            poll = polls[n % 6] if voter["id"] not in voted_during else polls[1 + n % 5]
            choice = choice_for(poll, rng)
            api.vote(poll["id"], voter, choice)
            final[(poll["id"], voter["id"])] = choice
        for voter in during[CHANGES // 2 : CHANGES]:
            key = (first_poll["id"], voter["id"])
            final[key] = choice_for(first_poll, rng, other_than=final[key])
            api.vote(first_poll["id"], voter, final[key])
        answers = VOTERS // 2 + CHANGES // 2 + VOTERS + CHANGES // 2
        expected_votes = sum(len(choice) for choice in final.values())

        # Back to normal by itself, without a restart, within RECOVERY seconds of PostgreSQL.
        engine = create_async_engine(database_url)
        try:
            state: dict[str, int] = {}
            while time.monotonic() < deadline:
                state = await back_to_normal(engine, expected_votes)
                if (
                    state["polls"] == 6
                    and state["inbox"] == 0
                    and state["unsent"] == 0
                    and state["votes"] == expected_votes
                    and state["ballots"] == len(final)
                    and api.pending_count() == 0
                ):
                    break
                await asyncio.sleep(0.2)
            recovered = time.monotonic() - back_at
            print(
                f"{answers} answers; PostgreSQL down {back_at - stopped_at[0]:.1f} s; "
                f"back to normal {recovered:.1f} s after it came back: {state}"
            )
            assert state["polls"] == 6, state
            assert state["inbox"] == 0, state
            assert state["unsent"] == 0, state
            assert state["claimed"] == 0, state
            assert api.pending_count() == 0, "Telegram still holds unacknowledged updates"
            assert recovered < RECOVERY, state
            async with engine.connect() as connection:
                stored = await connection.scalars(select(PostedPoll.poll_id))
                assert sorted(stored) == sorted(poll["id"] for poll in polls)
        finally:
            await engine.dispose()

        # Every poll once (the first one's answer kept in memory until the database let it be
        # recorded), one introduction, and the process is the one started at the beginning.
        assert len(api.calls_of("sendPoll")) == 6
        questions = [m["poll"]["question"] for m in api.sent(group["id"], "sendPoll")]
        assert len(set(questions)) == 6
        intros = [m for m in api.sent(group["id"]) if m.get("text", "").startswith("🗳")]
        assert len(intros) == 1
        assert process.returncode is None, "the bot exited instead of healing"
        await assert_counts_are_the_answers(database_url, final)

        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, stderr.decode(errors="replace")[-3000:]
        assert TOKEN not in stderr.decode(errors="replace")
    finally:
        if process.returncode is None:  # the test failed: kill the bot, show what it said
            process.kill()
            _, stderr = await process.communicate()
            print(f"the bot's log ends with:\n{stderr.decode(errors='replace')[-4000:]}")
