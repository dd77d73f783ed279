"""Who administers each group, read from Telegram outside any transaction and cached.

A handler asks `AdminCache.check`; when the group's list is not known (or is older than a
minute), it raises `AdminsUnknown`, the update's transaction is rolled back, the list is
fetched (getChatAdministrators, one call for the whole group), and the update handled again.
`chat_member` and `my_chat_member` updates drop a group's list at once, but Telegram sends
`chat_member` only to bots that are administrators, which Agora need not be: the minute is
what bounds how long a demoted administrator keeps their powers.
"""

from __future__ import annotations

import time

from telegram import Bot


class FactsUnknown(Exception):
    """The decision needs facts only Telegram knows: the update's transaction is rolled back,
    `fetch` reads them (outside any transaction; it never raises, a refusal from Telegram is
    a fact too), and the update is handled again."""

    async def fetch(self, bot: Bot) -> None:
        raise NotImplementedError


class AdminsUnknown(FactsUnknown):
    """The decision needs the group's administrators, which must be fetched first (by the
    handling, from the AdminCache: a failure there is reported to the sender)."""

    def __init__(self, chat_id: int) -> None:
        super().__init__(f"administrators of chat {chat_id} are not known")
        self.chat_id = chat_id


TTL = 60.0  # seconds a group's list is trusted


class AdminCache:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._known: dict[int, tuple[float, frozenset[int]]] = {}

    def check(self, chat_id: int, user_id: int) -> bool:
        """Whether the user administers the group; raises AdminsUnknown to fetch the list."""
        known = self._known.get(chat_id)
        if known is None or time.monotonic() - known[0] > self.ttl:
            raise AdminsUnknown(chat_id)
        return user_id in known[1]

    async def refresh(self, bot: Bot, chat_id: int) -> None:
        members = await bot.get_chat_administrators(chat_id)
        now = time.monotonic()
        if len(self._known) > 10_000:  # keep memory bounded: drop what expired
            self._known = {c: k for c, k in self._known.items() if now - k[0] <= self.ttl}
        self._known[chat_id] = (now, frozenset(m.user.id for m in members))

    def forget(self, chat_id: int) -> None:
        self._known.pop(chat_id, None)
