"""/lang [/langue]: show or set the chat's language (fr or en), by argument or keyboard."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp
from bot.core.callbacks import Callback, decode, encode
from bot.core.commands import HELP, LANG
from bot.core.formatting import escape
from bot.core.i18n import LANGUAGES, _, current_language, normalize_language, set_language
from bot.core.refusals import StaleButton, Unclear
from handlers.common import command
from handlers.request import Press, Request, channel_title, handles, presses

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


@handles(LANG)
async def language_command(request: Request) -> None:
    """Offer a keyboard, or set the language given as argument (admins only in groups)."""
    if not request.args:
        request.reply(_("Choose the language of this chat:"), reply_markup=keyboard())
        return
    code = request.args[0].strip().lower()
    if code not in LANGUAGES:
        raise Unclear(
            _(
                "“{code}” is not a supported language. Use /{lang} fr (français) or /{lang} en "
                "(English)."
            ).format(code=escape(code[:16]), lang=LANG.name(request.language))
        )
    request.require_admin()
    request.chat.language = code
    if request.on_channel:  # the administrator is answered in their own language
        channel = channel_title(request.chat)
        request.reply(
            _("From now on I post in {channel} in English.").format(channel=channel)
            if code == "en"
            else _("From now on I post in {channel} in French.").format(channel=channel)
        )
        return
    set_language(code)
    request.reply(confirmation())


@presses(Callback.LANGUAGE)
async def language_button(press: Press) -> None:
    """Apply a choice from the language keyboard."""
    fields = decode(Callback.LANGUAGE, press.query.data, 1)
    code = normalize_language(fields[0]) if fields else None
    if code is None or press.chat is None:
        raise StaleButton
    press.require_admin()
    press.chat.language = code
    set_language(code)
    press.answer()
    await press.edit(confirmation())


def register(app: AgoraApp) -> None:
    app.add_handler(command(LANG.names, language_command))
    app.add_handler(CallbackQueryHandler(language_button, pattern=Callback.LANGUAGE.pattern))
