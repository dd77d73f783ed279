"""What handlers and jobs share for the lifetime of the application."""

from __future__ import annotations

from dataclasses import dataclass

from bot.admins import AdminCache
from bot.library import Library
from bot.sending.sender import Sender
from bot.settings import Settings
from bot.transaction import Work
from storage.db import Database


@dataclass(slots=True)
class Services:
    settings: Settings
    library: Library
    database: Database
    work: Work
    sender: Sender
    admins: AdminCache
