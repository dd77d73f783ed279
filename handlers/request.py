"""The one wrapper of the handlers that answer a person: a command, a reply, a button press.

`handles(COMMAND)` runs the handler in the update's unit of work (bot.engine.transaction:
its session, after the answers collected so far), hands it a `Request` (the chat's row, its
article, language and time zone, the sender, the arguments), holds the command to the rights
the registry gives it (bot.core.commands.Rights) and turns a refusal (bot.core.refusals),
wherever below it is raised, into an answer in the user's language. `presses(Callback.X)`
does the same for the buttons of one kind, with a `Press`, and answers a refusal as the
press's notice or alert; `receives` hands an update that answers nobody (a poll's state, a
group's migration) its unit's session. Either way the unit commits: a refusal is an answer,
not a failure (a failure rolls the unit back: bot.engine.dispatcher).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import CallbackQuery, ChatFullInfo, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType

from bot.context import AgoraContext
from bot.core.callbacks import Callback
from bot.core.commands import CHANNEL, N_, Command, Rights
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import _, current_language
from bot.core.localtime import chat_zone, zone_of
from bot.core.refusals import NotAdmin, Refusal, Unclear
from bot.digests.closing import hidden_results
from bot.engine.channels import channel_reference
from bot.engine.effects import Effect
from bot.engine.transaction import with_session
from handlers.common import (
    answer_later,
    answer_query,
    current_article,
    edit_query_message,
    is_admin,
    reply,
    reply_blocks,
    stored_chat,
    thread_of,
)
from storage.channels import find_channel
from storage.chats import get_chat
from storage.models import Chat, OutboxMessage

T = TypeVar("T")
R = TypeVar("R", bound="Received")
Handler = Callable[[Update, AgoraContext], Coroutine[Any, Any, None]]
CHANNEL_REFUSAL = N_(
    "Only the administrators of this channel can do this: Telegram does not list you as one."
)


@dataclass(frozen=True, slots=True)
class Received:
    """What every wrapped handler gets: its update, its context, its unit's session."""

    update: Update
    context: AgoraContext
    session: AsyncSession


def _wrapped(
    handler: Callable[[R], Awaitable[None]],
    make: Callable[[Update, AgoraContext, AsyncSession], Awaitable[R]],
    tell: Callable[[R, Refusal], None],
) -> Handler:
    """`handler` in the update's unit, with what `make` prepares; a refusal is told."""

    @functools.wraps(handler)
    @with_session
    async def wrapper(session: AsyncSession, update: Update, context: AgoraContext) -> None:
        received = await make(update, context, session)
        try:
            await handler(received)
        except Refusal as refusal:
            tell(received, refusal)

    return wrapper


def receives(handler: Callable[[Received], Awaitable[None]]) -> Handler:
    """A handler of an update that answers nobody, made from `handler(received)`."""

    async def make(update: Update, context: AgoraContext, session: AsyncSession) -> Received:
        return Received(update, context, session)

    def tell(received: Received, refusal: Refusal) -> None:
        raise refusal  # nobody to tell: a refusal here is a mistake

    return _wrapped(handler, make, tell)


@dataclass(frozen=True, slots=True)
class Request(Received):
    """What a handler of a message gets besides the update: the chat's row and the command
    it is (None for a plain message)."""

    chat: Chat
    command: Command | None = None
    # In private, a command that names a channel first (/digest @name on) acts on the
    # channel: `chat` is the channel's row, `args` what follows its name, answers go to the
    # private chat, and the channel's administrators are asked of Telegram.
    on_channel: bool = False

    @property
    def message(self) -> Message:
        message = self.update.effective_message
        assert message is not None
        return message

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])[1 if self.on_channel else 0 :]

    @property
    def user(self) -> User | None:
        return self.update.effective_user

    @property
    def language(self) -> str:
        """The language answers are in (the chat's, unless the handler just changed it)."""
        return current_language()

    @property
    def article(self) -> Article:
        """The chat's current article (a look-up in the library, no query)."""
        return current_article(self.context, self.chat)

    @property
    def zone(self) -> ZoneInfo:
        return chat_zone(self.chat, self.context.services.settings)

    @property
    def private(self) -> bool:
        return self.chat.type == ChatType.PRIVATE

    @property
    def thread(self) -> int | None:
        return thread_of(self.update)

    def require_admin(self) -> None:
        """Go on only for an administrator of the group or of the channel acted on (anyone
        in a private chat)."""
        assert self.command is not None
        assert self.command.rights is not Rights.ANYONE
        if self.on_channel:
            user = self.user
            facts = self.context.services.channels.facts(self.chat.id)
            if user is None or user.id not in facts.admins:
                raise NotAdmin(CHANNEL_REFUSAL)
        elif not is_admin(self.update, self.context):
            raise NotAdmin(self.command.refusal)

    def reply(
        self,
        text: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        *,
        effect: Effect | None = None,
    ) -> list[OutboxMessage]:
        return reply(self.update, text, reply_markup, effect=effect)

    def reply_blocks(self, blocks: Iterable[str]) -> list[OutboxMessage]:
        return reply_blocks(self.update, blocks)

    def later(
        self,
        kind: str,
        key: Hashable,
        compute: Callable[[], Awaitable[T]],
        answer: Callable[[T], object],
    ) -> None:
        """Answer once this unit has committed (handlers.common.answer_later)."""
        answer_later(self.update, self.context, kind, key, compute, answer)


def handles(
    command: Command | None = None,
) -> Callable[[Callable[[Request], Awaitable[None]]], Handler]:
    """A handler of `command` (or of a plain message, None) made from `handler(request)`."""

    async def make(update: Update, context: AgoraContext, session: AsyncSession) -> Request:
        assert update.effective_chat is not None
        chat = await stored_chat(session, update.effective_chat)
        return Request(update, context, session, chat, command)

    def tell(request: Request, refusal: Refusal) -> None:
        request.reply(refusal.text(request.zone))

    def decorate(handler: Callable[[Request], Awaitable[None]]) -> Handler:
        @functools.wraps(handler)
        async def checked(request: Request) -> None:
            if command is not None and command.channels and request.private:
                request = await on_channel(request)
            if command is not None and command.rights is Rights.ADMINS:
                request.require_admin()  # before the handler runs
            if command is not None and command.shows_results:
                chat, article = request.chat, request.article
                hidden = await hidden_results(request.session, chat.id, article, request.zone)
                if hidden is not None:  # until the close: how many answered, nothing more
                    request.reply_blocks(hidden)
                    return
            await handler(request)

        return _wrapped(checked, make, tell)

    return decorate


def no_such_channel() -> Unclear:
    """The refusal for a channel name (or id, or link) Agora does not publish in."""
    return Unclear(
        _("Agora publishes in no channel by that name. Its administrators can link it "
          "with /{channel} @name.").format(channel=CHANNEL.name(current_language()))
    )


def channel_title(chat: Chat | ChatFullInfo) -> str:
    """A channel's title as a message shows it (escaped; its id if it has none)."""
    return escape(chat.title or str(chat.id))


def channel_handle(chat: Chat) -> str:
    """How commands name a channel: "@name", or its id for a private channel."""
    return f"@{chat.username}" if chat.username else str(chat.id)


async def on_channel(request: Request) -> Request:
    """The request made on the channel its first argument names, if it names one."""
    reference = channel_reference(request.args[0]) if request.args else None
    if reference is None:
        return request
    channel = await find_channel(request.session, reference)
    if channel is None:
        raise no_such_channel()
    return replace(request, chat=channel, on_channel=True)


@dataclass(frozen=True, slots=True)
class Press(Received):
    """What a handler of a button press gets besides the update: the button's kind and the
    chat's row (None for a button outside a chat the bot knows)."""

    kind: Callback
    chat: Chat | None

    @property
    def query(self) -> CallbackQuery:
        query = self.update.callback_query
        assert query is not None
        return query

    @property
    def user(self) -> User:
        return self.query.from_user

    @property
    def zone(self) -> ZoneInfo:
        settings = self.context.services.settings
        return chat_zone(self.chat, settings) if self.chat is not None else zone_of(None, settings)

    def require_admin(self) -> None:
        """Go on only for an administrator of the group (anyone in a private chat)."""
        if not is_admin(self.update, self.context):
            raise NotAdmin(self.kind.command.refusal)

    def answer(self, text: str | None = None) -> None:
        """Answer the press (Telegram asks bots to answer every one)."""
        answer_query(self.update, text)

    async def edit(self, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
        """Replace the text of the message whose button was pressed."""
        await edit_query_message(self.session, self.update, text, reply_markup)


def presses(kind: Callback) -> Callable[[Callable[[Press], Awaitable[None]]], Handler]:
    """A handler of the buttons of `kind` made from `handler(press)`: a refusal answers the
    press, as an alert when it says so."""

    async def make(update: Update, context: AgoraContext, session: AsyncSession) -> Press:
        chat = update.effective_chat
        stored = await get_chat(session, chat.id) if chat is not None else None
        return Press(update, context, session, kind, stored)

    def tell(press: Press, refusal: Refusal) -> None:
        answer_query(press.update, refusal.text(press.zone), show_alert=refusal.alert)

    return lambda handler: _wrapped(handler, make, tell)
