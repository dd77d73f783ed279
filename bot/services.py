"""What handlers and jobs share for the lifetime of the application."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import CallbackContext

from bot.admins import AdminCache
from bot.content import Library
from bot.sender import Sender
from bot.settings import Settings
from bot.transaction import Work
from storage.db import Database

SERVICES_KEY = "agora"


@dataclass(slots=True)
class Services:
    settings: Settings
    library: Library
    database: Database
    work: Work
    sender: Sender
    admins: AdminCache


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    return cast(Services, context.bot_data[SERVICES_KEY])
