"""The database: engines, short transactions, and schema migrations (Alembic, at start-up)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Connection, event, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql.expression import UpdateBase
from sqlalchemy.util import await_only

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The two-integer form, as bot.engine.lease's: never met by the chats' turns (one bigint each).
MIGRATION_LOCK = (0x41676F72, 2)  # "Agor", lock number 2


def create_engine(url: str, *, writer: bool = True) -> AsyncEngine:
    """An engine for `url`; SQLite files get their folder, WAL mode and real transactions
    (taking the write lock up front for a `writer`, deferred for a reader)."""
    parsed = make_url(url)
    # hide_parameters: an error message never shows the values (names, opinions) of a query.
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Writers take turns (see Database): a few connections are enough for either engine.
    engine = create_async_engine(
        url,
        connect_args={"timeout": 30},
        poolclass=AsyncAdaptedQueuePool,  # named: SQLAlchemy before 2.0.38 chose NullPool
        pool_size=2,
        max_overflow=4,
        hide_parameters=True,
    )
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so SAVEPOINT works (see the
        # SQLAlchemy pysqlite/aiosqlite docs, "Serializable isolation / Savepoints").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-1024")  # 1 MiB a connection: the OS caches the file
        cursor.close()

    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a writer waits (busy_timeout) instead of
        # failing when it upgrades a read transaction another connection has overtaken.
        # Straight to the driver: one round trip to aiosqlite's thread (exec_driver_sql
        # takes three, a cursor opened, run and closed), before every transaction.
        driver = connection.connection.driver_connection
        assert driver is not None
        await_only(driver.execute(begin))

    return engine


_compiled: dict[int, tuple[Any, str, list[str], dict[str, Any]]] = {}


async def execute_many(
    session: AsyncSession, statement: UpdateBase, rows: list[dict[str, Any]]
) -> None:
    """`session.execute(statement, rows)` for a module-level statement (compiled once), the
    rows' values converted as SQLAlchemy would. On SQLite it goes straight to the driver:
    one round trip to its thread rather than three (SQLAlchemy opens, runs and closes a
    cursor for each statement), in the session's transaction all the same. For the hot
    statements of a vote storm (storage.ballots, storage.totals)."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        await session.execute(statement, rows)
        return
    found = _compiled.get(id(statement))
    if found is None or found[0] is not statement:
        compiled = statement.compile(dialect=connection.dialect)
        names = list(compiled.positiontup or ())
        found = (statement, compiled.string, names, dict(compiled._bind_processors))
        _compiled[id(statement)] = found
    _, sql, names, processors = found
    if any(name not in rows[0] for name in names):  # a column left to its default
        await session.execute(statement, rows)
        return
    params = [
        tuple(
            processors[name](row[name]) if name in processors else row[name] for name in names
        )
        for row in rows
    ]
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.executemany(sql, params)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """Short transactions for writers, and read-only sessions that never wait for them.

    SQLite has one writer at a time. Writers queue here, in asyncio order, rather than in
    SQLite's busy handler (which sleeps up to 100 ms between tries); readers use their own
    engine with deferred transactions, which WAL mode lets run beside the writer.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self.reader = create_engine(url, writer=False) if self.sqlite else self.engine
        self._writers = create_sessionmaker(self.engine)
        self._readers = create_sessionmaker(self.reader)
        self._gate = asyncio.Lock() if self.sqlite else None
        self._alone: IO[bytes] | None = None
        self.url = url

    def claim_file(self) -> Path | None:
        """For a SQLite file: hold an exclusive lock on a file beside it for as long as the
        bot runs, so that a second bot on the same file is refused (SQLite has no lease for
        several instances: use PostgreSQL for that). The lock file's path if another process
        holds it, None once held (or with PostgreSQL)."""
        name = make_url(self.url).database
        if not self.sqlite or not name or name == ":memory:":
            return None
        path = Path(name).expanduser().resolve().with_name(Path(name).name + ".lock")
        handle = path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return path
        self._alone = handle
        return None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed on exit (rolled back on an exception)."""
        async with contextlib.AsyncExitStack() as stack:
            if self._gate is not None:
                await stack.enter_async_context(self._gate)
            session = await stack.enter_async_context(self._writers())
            await stack.enter_async_context(session.begin())
            yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only."""
        async with self._readers() as session:
            yield session

    async def migrate(self) -> None:
        await migrate(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()
        if self._alone is not None:
            self._alone.close()  # releases the lock
            self._alone = None


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def newest_revision() -> str:
    """The newest migration's revision: its file name's number ("0009_option_bits.py")."""
    files = (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py")
    return max(path.name[:4] for path in files)


def _current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _upgrade(connection: Connection) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision. Alembic (about 10 MB) is loaded only when
    there is a migration to apply, not at every start. On PostgreSQL, replicas started
    together take turns: the first to take the migration lock migrates, the others wait for
    it and then find the schema current (read again once the lock is theirs)."""
    async with engine.begin() as connection:
        if await connection.run_sync(_current_revision) == newest_revision():
            return
        if connection.dialect.name == "postgresql":
            # Held until this transaction ends, committed or not, whatever happens.
            await connection.execute(
                select(func.pg_advisory_xact_lock(*MIGRATION_LOCK))
            )
            if await connection.run_sync(_current_revision) == newest_revision():
                return
        await connection.run_sync(_upgrade)
