"""/lang [/langue]: show or set the chat's language (fr or en), by argument or keyboard."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp, AgoraContext
from bot.core.callbacks import Callback, decode, encode
from bot.core.commands import HELP, LANG
from bot.core.formatting import escape
from bot.core.i18n import LANGUAGES, _, current_language, normalize_language, set_language
from bot.engine.transaction import with_session
from handlers.common import (
    answer_query,
    command,
    edit_query_message,
    is_admin,
    reply,
    stored_chat,
)

LANGUAGE_NAMES = {"fr": "🇫🇷 Français", "en": "🇬🇧 English"}


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    LANGUAGE_NAMES[code], callback_data=encode(Callback.LANGUAGE, code)
                )
                for code in LANGUAGES
            ]
        ]
    )


def confirmation() -> str:
    language = current_language()
    return _("From now on I speak English in this chat. Commands: /{help}").format(
        help=HELP.name(language)
    )


@with_session
async def language_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Offer a keyboard, or set the language given as argument (admins only in groups)."""
    assert update.effective_chat is not None
    if not context.args:
        reply(update, _("Choose the language of this chat:"), reply_markup=keyboard())
        return
    code = context.args[0].strip().lower()
    if code not in LANGUAGES:
        reply(
            update,
            _(
                "“{code}” is not a supported language. Use /{lang} fr (français) or /{lang} en "
                "(English)."
            ).format(code=escape(code[:16]), lang=LANG.name(current_language())),
        )
        return
    if not is_admin(update, context):
        reply(
            update, _("Only the group's administrators can change the language: ask one of them.")
        )
        return
    chat = await stored_chat(session, update.effective_chat)
    chat.language = code
    set_language(code)
    reply(update, confirmation())


@with_session
async def language_button(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Apply a choice from the language keyboard."""
    query = update.callback_query
    assert query is not None
    fields = decode(Callback.LANGUAGE, query.data, 1)
    code = normalize_language(fields[0]) if fields else None
    if code is None or update.effective_chat is None:
        answer_query(update, _("This button is no longer valid."))
        return
    if not is_admin(update, context):
        answer_query(
            update,
            _("Only the group's administrators can change the language: ask one of them."),
            show_alert=True,
        )
        return
    chat = await stored_chat(session, update.effective_chat)
    chat.language = code
    set_language(code)
    answer_query(update)
    await edit_query_message(session, update, confirmation())


def register(app: AgoraApp) -> None:
    app.add_handler(command(LANG.names, language_command))
    app.add_handler(CallbackQueryHandler(language_button, pattern=Callback.LANGUAGE.pattern))
