"""What every handler needs: the chat's language and article, rights checks, replies."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Chat as TelegramChat
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.content import Article
from bot.i18n import normalize_language, set_language
from bot.services import services
from bot.transaction import current_session
from storage.models import Chat
from storage.queries import ensure_chat, get_chat

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}


async def resolve_chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Record the chat on first contact and make its language current for this update."""
    settings = services(context).settings
    language: str = settings.default_language
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.CHANNEL:
        stored = await ensure_chat(
            current_session(),
            chat.id,
            chat.type,
            chat.title,
            services(context).library.newest.id,
        )
        user = update.effective_user
        if stored.language:
            language = stored.language
        elif chat.type == ChatType.PRIVATE and user is not None:
            language = normalize_language(user.language_code) or language
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


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def split_blocks(blocks: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join blocks with blank lines into messages of at most `limit` characters.

    A block too long on its own is cut at line ends, then at spaces, never inside a word
    (unless a single word is longer than the limit).
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        for piece in _fit(block, limit):
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages


def _fit(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    for separator in ("\n", " "):
        if separator in block:
            pieces: list[str] = []
            current = ""
            for part in block.split(separator):
                for chunk in _fit(part, limit):
                    candidate = f"{current}{separator}{chunk}" if current else chunk
                    if len(candidate) <= limit:
                        current = candidate
                    else:
                        pieces.append(current)
                        current = chunk
            if current:
                pieces.append(current)
            return pieces
    return [block[i : i + limit] for i in range(0, len(block), limit)]


async def reply(
    update: Update, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the update's chat with HTML text, split over several messages if needed."""
    message = update.effective_message
    if message is None:
        return None
    sent: Message | None = None
    parts = split_blocks([text])
    for index, part in enumerate(parts):
        markup = reply_markup if index == len(parts) - 1 else None
        sent = await message.reply_text(
            part, parse_mode=ParseMode.HTML, do_quote=False, reply_markup=markup
        )
    return sent


async def reply_blocks(update: Update, blocks: Iterable[str]) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    for part in split_blocks(blocks):
        await chat.send_message(part, parse_mode=ParseMode.HTML)


async def safe_reply(update: Update, text: str) -> None:
    """Like `reply`, for error paths: a failure to answer is logged, not raised."""
    try:
        await reply(update, text)
    except TelegramError as exc:
        log.warning("could not answer update %s (%s)", update.update_id, type(exc).__name__)
