"""The deep link that opens the rating of a group's opinions in a private chat:
t.me/<bot>?start=rate_<group id>_<signature>, within Telegram's 64 characters of payload.

The signature (an HMAC of the group's id under a key drawn from the bot's token) means only
a link the bot posted in the group opens its opinions: a forged one names no group.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

PREFIX = "rate"
MAX_PAYLOAD = 64  # characters of a /start payload (A-Z, a-z, 0-9, _ and -)
_PAYLOAD = re.compile(r"^rate_(-?\d{1,19})_([A-Za-z0-9_-]{8})$")


def signature(token: str, chat_id: int) -> str:
    """Eight characters that only the bot can compute for this group."""
    key = hashlib.sha256(b"agora rating links " + token.encode()).digest()
    mac = hmac.new(key, str(chat_id).encode(), hashlib.sha256).digest()[:6]
    return base64.urlsafe_b64encode(mac).decode()


def rate_payload(token: str, chat_id: int) -> str:
    payload = f"{PREFIX}_{chat_id}_{signature(token, chat_id)}"
    assert len(payload) <= MAX_PAYLOAD
    return payload


def rate_url(bot_username: str, token: str, chat_id: int) -> str:
    return f"https://t.me/{bot_username}?start={rate_payload(token, chat_id)}"


def rated_group(token: str, payload: str) -> int | None:
    """The group a /start payload names, if the bot signed it; None otherwise."""
    found = _PAYLOAD.match(payload)
    if found is None:
        return None
    chat_id = int(found[1])
    if not hmac.compare_digest(found[2], signature(token, chat_id)):
        return None
    return chat_id
