"""/export [/exporter]: the chat's results and opinions as a CSV file (see bot.export)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot import outbox
from bot.commands import EXPORT
from bot.context import AgoraApp, AgoraContext
from bot.export import chat_export
from bot.i18n import _
from bot.localtime import chat_zone
from bot.transaction import with_session
from handlers.common import command, current_article, is_admin, reply, stored_chat, thread_of


@with_session
async def export_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Send this chat's results and opinions as a CSV file (admins only in groups)."""
    assert update.effective_chat is not None
    if not is_admin(update, context):
        reply(
            update, _("Only the group's administrators can export the results: ask one of them.")
        )
        return
    chat = await stored_chat(session, update.effective_chat)
    zone = chat_zone(chat, context.services.settings)
    export = await chat_export(session, current_article(context, chat), chat.id, zone)
    outbox.send_document(
        chat.id, export.content, export.filename, export.caption, thread=thread_of(update)
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(EXPORT.names, export_command))
