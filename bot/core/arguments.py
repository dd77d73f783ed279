"""Reading what people type after a command, and what buttons carry: strict patterns only.

`str.isdigit()` accepts "²" and other digits `int()` refuses, and Python's `\\d` accepts every
script's digits: a number here is ASCII digits, nothing else.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_NUMBER = re.compile(r"[0-9]{1,18}")


def number(text: str, most: int = 10**18 - 1) -> int | None:
    """A whole number from 0 to `most` written with ASCII digits, else None (`most` is the
    largest the column it is looked up in holds: PostgreSQL's INTEGER stops at 2**31 - 1)."""
    value = int(text) if _NUMBER.fullmatch(text) else None
    return value if value is not None and value <= most else None


def time_zone(text: str) -> ZoneInfo | None:
    """The IANA time zone named `text` ("Europe/Paris"), else None.

    `ZoneInfo` says "unknown" in three ways: not found (a KeyError), not a zone (ValueError),
    and, for a folder of the time zone database ("Europe") or a name too long for a file,
    OSError. Listing every zone instead would cost some 60 ms at each start.
    """
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


_DELAY = re.compile(r"([0-9]{1,4})\s*(m|min|h|d|j)")
_DELAY_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "j": 86400}
_TIME_OF_DAY = re.compile(r"([0-9]{1,2})[:hH]([0-9]{2})")


def delay(text: str) -> int | None:
    """A delay written "90m", "2h", "3d" or "3j" (jours), in seconds; else None."""
    match = _DELAY.fullmatch(text.strip().lower())
    return int(match[1]) * _DELAY_UNITS[match[2]] if match else None


def time_of_day(text: str) -> tuple[int, int] | None:
    """ "18:30", "9:05" or "18h30" as (hours, minutes); else None."""
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return int(match[1]), int(match[2])
