"""Inline-button callback data: one registry of kinds, compact payloads under 64 bytes.

Data reads "<kind>:<field>:<field>…". Anything that does not parse (a forged or outdated
button) decodes to None, and handlers answer it politely without changing anything.
"""

from __future__ import annotations

import enum
import re

from bot.core.commands import FORGETME, LANG, OPINIONS, POLL, RATE, Command

MAX_BYTES = 64  # Telegram's limit for callback_data


class Callback(enum.Enum):
    LANGUAGE = "lang"  # lang:<code>
    OPINIONS = "ops"  # ops:<o|n><opinion id>:<page> (older or newer than that opinion)
    FORGET = "forget"  # forget:<user id>:<yes|no>
    RATE = "rate"  # rate:<group id>:<opinion id>:<a|d|p>:<signature of the group>
    ROUND = "round"  # round:<round to open>:<a: anonymous, h: hidden, -: neither>:<yes|no>

    @property
    def pattern(self) -> str:
        """The regular expression that routes this kind's buttons to its handler."""
        return f"^{re.escape(self.value)}:"

    @property
    def command(self) -> Command:
        """The command whose buttons these are: pressing one takes that command's rights."""
        return _COMMANDS[self]


_COMMANDS = {
    Callback.LANGUAGE: LANG, Callback.OPINIONS: OPINIONS, Callback.FORGET: FORGETME,
    Callback.RATE: RATE, Callback.ROUND: POLL,
}


def encode(kind: Callback, *fields: object) -> str:
    data = ":".join([kind.value, *(str(field) for field in fields)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(kind: Callback, data: str | None, count: int) -> list[str] | None:
    """The `count` fields of a button of this kind, or None if the data is not one."""
    if not data:
        return None
    parts = data.split(":")
    if parts[0] != kind.value or len(parts) != count + 1 or not all(parts[1:]):
        return None
    return parts[1:]
