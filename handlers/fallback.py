"""What the bot answers to what it does not understand, and how handler errors are reported."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import HELP
from bot.core.i18n import _, current_language
from bot.engine.transaction import active_unit
from handlers.common import answer_query, reply

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: AgoraContext) -> None:
    """Point to /help when a command addressed to the bot is not one of its own."""
    message = update.effective_message
    if message is None or message.text is None or update.effective_chat is None:
        return
    command = message.text.split()[0]
    addressed = "@" in command and command.split("@", 1)[1].lower() == context.bot.username.lower()
    if update.effective_chat.type == ChatType.PRIVATE or addressed:
        reply(
            update,
            _("I don't know that command. See /{help} for the list.").format(
                help=HELP.name(current_language())
            ),
        )


async def plain_text(update: Update, context: AgoraContext) -> None:
    """In a private chat, answer free text with a pointer to the commands."""
    reply(
        update,
        _("I answer commands: see /{help}.").format(help=HELP.name(current_language())),
    )


async def unknown_button(update: Update, context: AgoraContext) -> None:
    """Answer a press no other handler took (a button of another version, forged data), so the
    person's client stops waiting: Telegram asks bots to answer every callback query."""
    answer_query(update, _("This button is no longer valid."))


async def report_error(update: object, context: AgoraContext) -> None:
    """Hand a handler's failure to the update's unit of work, which rolls back and tells the
    user (see bot.engine.dispatcher); an error outside any update (a job) is logged."""
    unit = active_unit()
    if unit is None or not isinstance(update, Update):
        log.error("job failed", exc_info=context.error)
        return
    unit.failure = context.error
    raise ApplicationHandlerStop


def register(app: AgoraApp) -> None:
    # Registered last in group 0, so they only see what no other handler took.
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, unknown_command))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
            plain_text,
        )
    )
    app.add_handler(CallbackQueryHandler(unknown_button))
    app.add_error_handler(report_error)
