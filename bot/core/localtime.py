"""A chat's own clock and language: its time zone, its digest time, the language it is
answered in, and moments written as that chat reads them. One place, for the handlers, the
digests and the announcements alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time

from bot.core.formatting import utf16_length
from bot.core.i18n import current_locale
from bot.core.settings import Settings
from storage.models import Chat

Clock = Callable[[], datetime]  # what time it is (tests move it)


def system_clock() -> datetime:
    return datetime.now(UTC)


def chat_zone(chat: Chat, settings: Settings) -> ZoneInfo:
    return zone_of(chat.timezone, settings)


def zone_of(timezone: str | None, settings: Settings) -> ZoneInfo:
    """A chat's stored time zone, or the bot's default (ZoneInfo keeps one object per name)."""
    return ZoneInfo(timezone or settings.timezone)


def chat_time(chat: Chat, settings: Settings) -> time:
    """The chat's daily digest time, in its time zone."""
    if chat.digest_time:
        hours, minutes = chat.digest_time.split(":")
        return time(int(hours), int(minutes))
    return settings.digest_time


def chat_language(chat: Chat, settings: Settings) -> str:
    return chat.language or chat.user_language or settings.default_language


def moment_text(moment: datetime, zone: ZoneInfo, *, time_only: bool = False) -> str:
    """A moment in the current language, in `zone`: "26/11/2026 18:30", or "18:30"."""
    if time_only:
        return str(format_time(moment, format="short", tzinfo=zone, locale=current_locale()))
    return str(format_datetime(moment, format="short", tzinfo=zone, locale=current_locale()))


def widest_moment(zone: ZoneInfo) -> int:
    """The most UTF-16 units `moment_text` takes in the current language (two-digit months,
    days and hours): listings measure every date at this width rather than format each."""
    return max(
        utf16_length(moment_text(datetime(2099, 12, 31, hour, 59, tzinfo=zone), zone))
        for hour in (10, 12, 23)
    )


def spreadsheet_moment(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as spreadsheets read it in any locale: "2026-11-26 18:30", in `zone`."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
