"""What handlers and jobs share for the lifetime of the application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext

from bot.content import Library
from bot.settings import Settings

SERVICES_KEY = "agora"


@dataclass(slots=True)
class Services:
    settings: Settings
    library: Library
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return cast(Services, context.bot_data[SERVICES_KEY])
