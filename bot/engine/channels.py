"""What Telegram says of a channel, read outside any transaction and cached for a minute.

A handler that needs to know a channel (`/channel @name`, `/publish @name`) asks
`ChannelCache.facts(reference)`; when the channel was not looked up in the last minute, it
raises `ChannelUnknown`, the update's transaction is rolled back, the channel is looked up
(getChat, then getChatAdministrators: one list gives both the people who administer it and
the bot's own right to post; then, if it has a discussion group, whether the bot reads it)
and the update handled again. A refusal from Telegram (no such chat, the bot not an
administrator) is a fact like another: the handler words it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from telegram import Bot, ChatFullInfo, ChatMemberAdministrator, ChatMemberOwner
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.engine.admins import FactsUnknown

TTL = 60.0  # seconds a channel's facts are trusted
_USERNAME = re.compile(r"^@([A-Za-z][A-Za-z0-9_]{3,31})$")
_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/([A-Za-z][A-Za-z0-9_]{3,31})/?$")
_ID = re.compile(r"^-100\d{1,16}$")


def channel_reference(text: str) -> str | int | None:
    """"@name", "t.me/name" or a channel's numeric id (-100…), as getChat takes it
    ("@name" in lower case, or the id); None for anything else."""
    text = text.strip()
    if _ID.match(text):
        return int(text)
    found = _USERNAME.match(text) or _LINK.match(text)
    return f"@{found[1].lower()}" if found else None


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """A reference looked up: the chat it names (None: Telegram knows none the bot may
    see), its administrators' ids, and whether the bot is one of them with the right to
    post."""

    chat: ChatFullInfo | None
    admins: frozenset[int] = frozenset()
    bot_can_post: bool = False
    # Whether the bot sees the replies in the channel's discussion group (None: it has
    # none): as its administrator, or with privacy mode off.
    reads_discussion: bool | None = None

    @property
    def is_channel(self) -> bool:
        return self.chat is not None and self.chat.type == ChatType.CHANNEL


class ChannelUnknown(FactsUnknown):
    def __init__(self, cache: ChannelCache, reference: str | int) -> None:
        super().__init__(f"channel {reference} is not known")
        self.cache = cache
        self.reference = reference

    async def fetch(self, bot: Bot) -> None:
        await self.cache.look_up(bot, self.reference)


async def reads_group(bot: Bot, group_id: int) -> bool:
    """Whether the bot receives the members' messages in the group (privacy mode shows a bot
    that is a mere member only commands and replies to its own messages)."""
    try:
        member = await bot.get_chat_member(group_id, bot.id)
    except TelegramError:
        return False
    if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return True
    return member.status == ChatMemberStatus.MEMBER and bool(bot.bot.can_read_all_group_messages)


class ChannelCache:
    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._known: dict[str | int, tuple[float, ChannelFacts]] = {}

    def facts(self, reference: str | int) -> ChannelFacts:
        """The channel's facts; raises ChannelUnknown to look it up."""
        known = self._known.get(reference)
        if known is None or time.monotonic() - known[0] > self.ttl:
            raise ChannelUnknown(self, reference)
        return known[1]

    async def look_up(self, bot: Bot, reference: str | int) -> None:
        try:
            chat = await bot.get_chat(reference)
        except TelegramError:
            self._remember(reference, ChannelFacts(None))
            return
        if chat.type != ChatType.CHANNEL:
            self._remember(reference, ChannelFacts(chat))
            return
        try:  # a channel's list is open to its administrators only, the bot among them
            members = await bot.get_chat_administrators(chat.id)
        except TelegramError:
            self._remember(reference, ChannelFacts(chat))
            return
        admins = frozenset(m.user.id for m in members if not m.user.is_bot)
        can_post = any(
            m.user.id == bot.id
            and (
                isinstance(m, ChatMemberOwner)
                or (isinstance(m, ChatMemberAdministrator) and bool(m.can_post_messages))
            )
            for m in members
        )
        reads = await reads_group(bot, chat.linked_chat_id) if chat.linked_chat_id else None
        self._remember(reference, ChannelFacts(chat, admins, can_post, reads))

    def _remember(self, reference: str | int, facts: ChannelFacts) -> None:
        now = time.monotonic()
        if len(self._known) > 10_000:  # keep memory bounded: drop what expired
            self._known = {r: k for r, k in self._known.items() if now - k[0] <= self.ttl}
        self._known[reference] = (now, facts)
        if facts.chat is not None and reference != facts.chat.id:
            self._known[facts.chat.id] = (now, facts)

    def forget(self, chat_id: int) -> None:
        """The bot's rights in the channel (or in its discussion group) changed: look it up
        again when needed."""
        stale = [
            reference
            for reference, (_, facts) in self._known.items()
            if facts.chat is not None and chat_id in (facts.chat.id, facts.chat.linked_chat_id)
        ]
        for reference in stale:
            del self._known[reference]
