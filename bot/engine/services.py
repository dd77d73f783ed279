"""What handlers and jobs share for the lifetime of the application."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.library import Library
from bot.core.settings import Settings
from bot.engine.admins import AdminCache
from bot.engine.channels import ChannelCache
from bot.engine.sending.sender import Sender
from bot.engine.transaction import Work
from storage.db import Database


@dataclass(slots=True)
class Services:
    settings: Settings
    library: Library
    database: Database
    work: Work
    sender: Sender
    admins: AdminCache
    channels: ChannelCache = field(default_factory=ChannelCache)
