"""What every handler needs: the chat's language and article, rights checks, replies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat as TelegramChat
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.content import Article
from bot.formatting import split_blocks
from bot.i18n import normalize_language, set_language
from bot.scheduler import digests
from bot.services import services
from bot.transaction import current_session
from storage.models import Chat
from storage.queries import ensure_chat, get_chat

log = logging.getLogger(__name__)

ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}


async def resolve_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record the chat on first contact and make its language current for this update."""
    settings = services(context).settings
    language: str = settings.default_language
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and chat.type != ChatType.CHANNEL:
        user_language = None
        if chat.type == ChatType.PRIVATE and user is not None:
            user_language = normalize_language(user.language_code)
        stored, reactivated = await ensure_chat(
            current_session(),
            chat.id,
            chat.type,
            chat.title,
            services(context).library.newest.id,
            user_language,
        )
        language = stored.language or user_language or language
        if reactivated:
            digests(context).arm(stored)
    set_language(language)


async def stored_chat(session: AsyncSession, chat: TelegramChat) -> Chat:
    """The chat row that `resolve_chat` made sure of."""
    stored = await get_chat(session, chat.id)
    if stored is None:
        raise LookupError(f"chat {chat.id} was not recorded")
    return stored


def current_article(context: ContextTypes.DEFAULT_TYPE, chat: Chat) -> Article:
    """The chat's chosen article, or the newest when the choice no longer exists."""
    library = services(context).library
    return library.get(chat.article_id) or library.newest


async def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender may change the chat's settings: anyone in private, admins in groups."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None:
        # An anonymous administrator writes as the group itself.
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in ADMIN_STATUSES


async def reply(
    update: Update, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the update's chat with HTML text, split over several messages if needed."""
    return await reply_blocks(update, [text], reply_markup)


async def reply_blocks(
    update: Update, blocks: Iterable[str], reply_markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send blocks packed into as few messages as Telegram's limit allows; a keyboard goes
    with the last one. In a forum topic, the answer stays in the topic."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return None
    thread = message.message_thread_id if message is not None and message.is_topic_message else None
    sent: Message | None = None
    parts = split_blocks(blocks)
    for index, part in enumerate(parts):
        sent = await chat.send_message(
            part,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread,
            reply_markup=reply_markup if index == len(parts) - 1 else None,
        )
    return sent


async def safe_reply(update: Update, text: str) -> None:
    """Like `reply`, for error paths: a failure to answer is logged, not raised."""
    try:
        await reply(update, text)
    except TelegramError as exc:
        log.warning("could not answer update %s (%s)", update.update_id, type(exc).__name__)


def command(
    names: list[str], callback: Callable[[Update, Any], Coroutine[Any, Any, None]]
) -> CommandHandler[Any, None]:
    """A command handler for new messages only: editing an old command does not run it again."""
    return CommandHandler(names, callback, filters=filters.UpdateType.MESSAGE)
