"""Reaching what the bot needs at start-up: the database (opened and migrated), then Telegram
(tried again while out of reach). Each failure is a StartupError of one line, without any
secret."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application

from bot.core.settings import StartupError
from storage.db import Database

log = logging.getLogger(__name__)


async def open_database(url: str) -> Database:
    """The database, migrated; a StartupError naming what failed (never the password)."""
    parsed = make_url(url)
    try:
        database = Database(url)
        taken = database.claim_file()
        if taken is not None:
            await database.dispose()
            raise StartupError(
                f"another Agora instance is using the SQLite database {parsed.database} "
                f"(it holds {taken}): stop it first; several instances need PostgreSQL"
            )
        await database.migrate()
    except (OSError, SQLAlchemyError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        if parsed.password:
            reason = reason.replace(str(parsed.password), "<secret>")
        if parsed.get_backend_name() == "sqlite":
            where = f"the SQLite database {parsed.database} (is its folder writable?)"
        else:
            where = f"PostgreSQL at {parsed.host}:{parsed.port or 5432}, database {parsed.database}"
        raise StartupError(f"cannot open {where}: {reason}") from None
    return database


async def connect(app: Application[Any, Any, Any, Any, Any, Any], stopping: asyncio.Event) -> bool:
    """Reach Telegram (getMe), trying again with a growing delay while it cannot be reached;
    False if asked to stop meanwhile. A token Telegram rejects is final."""
    delay = 1.0
    while True:
        try:
            await app.initialize()
            return True
        except InvalidToken:
            raise StartupError(
                "BOT_TOKEN was rejected by Telegram (revoked or mistyped?): "
                "get a token from @BotFather"
            ) from None
        except (NetworkError, RetryAfter) as exc:
            log.warning(
                "Telegram cannot be reached (%s); trying again in %.0f s", type(exc).__name__, delay
            )
        with suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=delay)
            return False
        delay = min(60.0, delay * 2)
