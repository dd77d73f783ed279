"""Schema migrations: an existing database keeps its data and gains the new tables."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text

from storage.db import alembic_config, create_engine, migrate, newest_revision
from tests.conftest import ROOT
from tests.support.harness import totals_match_tallies

pytestmark = pytest.mark.floors


def upgrade_to(revision: str):
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


async def test_totals_are_filled_from_existing_polls(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_to("0003"))
        await connection.execute(
            text(
                "INSERT INTO chats (id, type, active, digest_enabled) "
                "VALUES (-1, 'group', true, false), (-2, 'group', true, false)"
            )
        )
        for chat, poll, voters, votes in ((-1, "p1", 3, (2, 1)), (-2, "p2", 4, (1, 3))):
            await connection.execute(
                text(
                    "INSERT INTO posted_polls (poll_id, chat_id, message_id, article_id, "
                    "question_key, language, anonymous, multiple, option_ids, voter_count, "
                    "posted_at) VALUES (:poll, :chat, 1, 'a', 'q', 'fr', false, false, "
                    '\'["x", "y"]\', :voters, :at)'
                ),
                {"poll": poll, "chat": chat, "voters": voters, "at": datetime.now(UTC)},
            )
            for index, count in enumerate(votes):
                await connection.execute(
                    text(
                        "INSERT INTO poll_tallies (poll_id, option_index, votes) "
                        "VALUES (:poll, :index, :count)"
                    ),
                    {"poll": poll, "index": index, "count": count},
                )
    await migrate(engine)
    async with engine.connect() as connection:
        voters = await connection.scalar(text("SELECT voters FROM question_totals"))
        votes = dict(
            (
                await connection.execute(
                    text("SELECT option_index, votes FROM option_totals ORDER BY option_index")
                )
            ).all()
        )
    assert voters == 7
    assert votes == {0: 3, 1: 4}
    await totals_match_tallies(engine)
    await engine.dispose()


def schema_differences(connection: Connection) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_models_and_the_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    await migrate(engine)
    async with engine.connect() as connection:
        differences = await connection.run_sync(schema_differences)
    await engine.dispose()
    assert differences == []


async def test_existing_chats_follow_the_latest_article(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_to("0006"))
        await connection.execute(
            text(
                "INSERT INTO chats (id, type, active, digest_enabled, article_id) "
                "VALUES (-1, 'group', true, false, 'openai-board-2023-11')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO summary_posts (chat_id, message_id, article_id) "
                "VALUES (-1, 1, 'openai-board-2023-11')"
            )
        )
    await migrate(engine)  # with rows pointing at the chat: no table rebuilt under them
    async with engine.connect() as connection:
        follows = await connection.scalar(text("SELECT follows_latest FROM chats"))
    assert follows in (True, 1)
    await engine.dispose()


async def test_existing_ballots_get_their_options_as_bits(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(upgrade_to("0008"))
        await connection.execute(
            text(
                "INSERT INTO chats (id, type, active, digest_enabled) "
                "VALUES (-1, 'group', true, false)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO posted_polls (poll_id, chat_id, message_id, article_id, "
                "question_key, language, anonymous, multiple, option_ids, voter_count, "
                "posted_at) VALUES ('p', -1, 1, 'a', 'q', 'fr', false, true, "
                '\'["x", "y", "z", "t", "u", "v", "w", "s", "r", "q", "o", "n"]\', 3, :at)'
            ),
            {"at": datetime.now(UTC)},
        )
        for user, options in ((1, "[0]"), (2, "[1, 3]"), (3, "[0, 5, 11]")):
            await connection.execute(
                text(
                    "INSERT INTO ballots (poll_id, user_id, options, answered_at) "
                    "VALUES ('p', :user, :options, :at)"
                ),
                {"user": user, "options": options, "at": datetime.now(UTC)},
            )
    await migrate(engine)
    async with engine.connect() as connection:
        bits = dict(
            (
                await connection.execute(
                    text("SELECT user_id, option_bits FROM ballots ORDER BY user_id")
                )
            ).all()
        )
    assert bits == {1: 0b1, 2: 0b1010, 3: 0b100000100001}
    await engine.dispose()


def test_the_newest_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    assert newest_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_alembic_is_loaded_only_when_there_is_a_migration_to_apply(tmp_path: Path) -> None:
    """At a start on a schema already current, the bot does not load Alembic (about 10 MB)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'agora.db'}"
    script = (
        "import asyncio, sys\n"
        "from storage.db import Database\n"
        "async def main():\n"
        f"    database = Database({url!r})\n"
        "    await database.migrate()\n"
        "    await database.dispose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_replicas_started_together_on_a_fresh_database_all_migrate(
    database_url: str,
) -> None:
    """Three replicas migrate an empty PostgreSQL database at once: one applies the
    migrations while the others wait for it, then find the schema current; all come up."""
    script = (
        "import asyncio, sys\n"
        "from storage.db import Database\n"
        "async def main():\n"
        "    database = Database(sys.argv[1])\n"
        "    await database.migrate()\n"
        "    await database.dispose()\n"
        "asyncio.run(main())\n"
    )
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, database_url,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [asyncio.wait_for(replica.communicate(), timeout=120) for replica in replicas]
    errors = [stderr.decode() for _, stderr in await asyncio.gather(*outputs)]
    assert [replica.returncode for replica in replicas] == [0, 0, 0], [e[-800:] for e in errors]
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT version_num FROM alembic_version")) == (
            newest_revision()
        )
        assert await connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        differences = await connection.run_sync(schema_differences)
    await engine.dispose()
    assert differences == []
