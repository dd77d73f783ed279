"""What every handler needs: the chat's language and article, rights checks, replies.

Replies are queued in the outbox (bot.engine.outbox) within the update's transaction; the sender
delivers them once it has committed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat as TelegramChat
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import CommandHandler, filters

from bot.context import AgoraContext
from bot.core.content import Article
from bot.core.formatting import plain_text, split_blocks
from bot.core.i18n import _, normalize_language, set_language
from bot.engine import metrics, outbox
from bot.engine.admission import answer_once
from bot.engine.effects import Effect
from bot.engine.outbox import last_edit
from bot.engine.transaction import active_unit, current_unit
from storage.chats import ensure_chat, get_chat
from storage.models import Chat, OutboxMessage

log = logging.getLogger(__name__)

T = TypeVar("T")


async def resolve_chat(update: Update, context: AgoraContext) -> None:
    """Record the chat on first contact and make its language current for this update."""
    settings = context.services.settings
    language: str = settings.default_language
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if message is not None and message.migrate_to_chat_id:
        chat = None  # the group's last message, once it became a supergroup: nothing to record
    if chat is not None and chat.type != ChatType.CHANNEL:
        user_language = None
        if chat.type == ChatType.PRIVATE and user is not None:
            user_language = normalize_language(user.language_code)
        unit = current_unit()
        stored, reactivated = await ensure_chat(
            unit.session,
            chat.id,
            chat.type,
            chat.title,
            context.services.library.newest.id,
            user_language,
        )
        language = stored.language or user_language or language
        if reactivated:
            scheduler = context.digests
            unit.on_commit(lambda: scheduler.arm(stored))
    set_language(language)


async def stored_chat(session: AsyncSession, chat: TelegramChat) -> Chat:
    """The chat row that `resolve_chat` made sure of."""
    stored = await get_chat(session, chat.id)
    if stored is None:
        raise LookupError(f"chat {chat.id} was not recorded")
    return stored


def current_article(context: AgoraContext, chat: Chat) -> Article:
    """The latest article if the chat follows it, else its choice (while it exists)."""
    return context.services.library.current(chat.follows_latest, chat.article_id)


def is_admin(update: Update, context: AgoraContext) -> bool:
    """Whether the sender may change the chat's settings: anyone in private, admins in groups
    (from the cached list of the group's administrators: see bot.engine.admins)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None:
        # An anonymous administrator writes as the group itself.
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    return context.services.admins.check(chat.id, user.id)


def thread_of(update: Update) -> int | None:
    """The forum topic the update came from, where the answer must go too."""
    message = update.effective_message
    return message.message_thread_id if message is not None and message.is_topic_message else None


def reply(
    update: Update,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    effect: Effect | None = None,
) -> list[OutboxMessage]:
    """Answer in the update's chat with HTML text, split over several messages if needed."""
    return reply_blocks(update, [text], reply_markup, effect=effect)


def reply_blocks(
    update: Update,
    blocks: Iterable[str],
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    effect: Effect | None = None,
) -> list[OutboxMessage]:
    """Queue blocks packed into as few messages as Telegram's limit allows; a keyboard goes
    with the last one. In a forum topic, the answer stays in the topic."""
    chat = update.effective_chat
    if chat is None:
        return []
    parts = split_blocks(blocks)
    recent = answer_once.get()  # a read-only command in a group (bot.engine.admission)
    if recent is not None:
        whole = "\n".join(parts)
        if recent.seen(chat.id, whole):
            return []  # the group got this very answer a moment ago
        chat_id, unit = chat.id, active_unit()
        if unit is not None:  # remembered once sent for sure: a rolled-back unit sends nothing
            unit.on_commit(lambda: recent.add(chat_id, whole))
        else:
            recent.add(chat_id, whole)
    return [
        outbox.send_text(
            chat.id,
            part,
            thread=thread_of(update),
            reply_markup=reply_markup if index == len(parts) - 1 else None,
            effect=effect,
        )
        for index, part in enumerate(parts)
    ]


def answer_later(
    update: Update,
    context: AgoraContext,
    kind: str,
    key: Hashable,
    compute: Callable[[], Awaitable[T]],
    answer: Callable[[T], object],
) -> None:
    """Answer once this update's unit has committed, outside any transaction and without
    holding up the updates behind it (bot.engine.transaction.Work.detach): for answers that take a
    second or more. `compute` reads with its own session (Database.read), as one of the
    process's few heavy computations (bot.engine.admission.Computations: one per chat at a time, and
    a request with the same `kind` and `key` as one under way shares its result, so `key`
    must hold everything the result depends on); `answer(result)` queues the answer, in the
    asker's language, in a short unit of its own. If the computation fails, the user is
    told."""
    work = context.services.work
    computations = context.bot_data.admission.computations
    chat = update.effective_chat
    assert chat is not None
    chat_id = chat.id

    async def later() -> None:
        queue: Callable[[], object]
        try:
            result = await computations.run(kind, key, chat_id, compute)
            queue = functools.partial(answer, result)
        except Exception:
            log.exception("a deferred answer failed")
            metrics.HANDLER_ERRORS.inc()
            apology = _("Sorry, something went wrong. Please try again later.")
            queue = functools.partial(reply, update, apology)

        async with work.unit():
            queue()

    current_unit().on_commit(lambda: work.detach(later()))


def command(
    names: list[str], callback: Callable[[Update, Any], Coroutine[Any, Any, None]]
) -> CommandHandler[Any, None]:
    """A command handler for new messages only: editing an old command does not run it again."""
    return CommandHandler(names, callback, filters=filters.UpdateType.MESSAGE)


def answer_query(update: Update, text: str | None = None, *, show_alert: bool = False) -> None:
    """Answer the button press of a callback query (a notice, or an alert)."""
    query = update.callback_query
    assert query is not None
    chat = update.effective_chat
    lane = chat.id if chat is not None else query.from_user.id
    outbox.answer_callback(lane, query.id, text, show_alert=show_alert)


async def edit_query_message(
    session: AsyncSession,
    update: Update,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Replace the text of the message whose button was pressed, unless it already says so (a
    double tap, or a button still on screen: Telegram refuses an edit that changes nothing) or
    has no text to replace (button data sent with a poll or a photo by a modified client)."""
    query = update.callback_query
    assert query is not None
    message = query.message
    if not isinstance(message, Message) or message.text is None:
        return
    markup = reply_markup.to_dict() if reply_markup is not None else None
    queued = await last_edit(session, message.chat.id, message.message_id)
    if queued is not None:
        shown, shown_markup = plain_text(queued["text"]), queued.get("reply_markup")
    else:
        shown = message.text
        shown_markup = message.reply_markup.to_dict() if message.reply_markup else None
    if (shown, shown_markup) == (plain_text(text), markup):
        return
    outbox.edit_text(message.chat.id, message.message_id, text, reply_markup)
