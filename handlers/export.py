"""/export [/exporter]: the chat's results and opinions as a CSV file (bot.discussion.export)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import EXPORT
from bot.core.i18n import _, current_language
from bot.core.localtime import chat_zone
from bot.discussion.export import Export, chat_export
from bot.engine import outbox
from bot.engine.transaction import with_session
from handlers.common import (
    answer_later,
    command,
    current_article,
    is_admin,
    reply,
    stored_chat,
    thread_of,
)


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
    article, chat_id, database = current_article(context, chat), chat.id, context.services.database

    async def compute() -> Export:
        async with database.read() as reading:
            return await chat_export(reading, article, chat_id, zone)

    def answer(export: Export) -> None:
        outbox.send_document(
            chat_id, export.content, export.filename, export.caption, thread=thread_of(update)
        )

    # Every answer of a large group: read and written after this update's transaction. The
    # file is in the chat's language and time zone: both are part of what it depends on.
    key = (article.id, chat_id, current_language(), zone.key)
    answer_later(update, context, "export", key, compute, answer)


def register(app: AgoraApp) -> None:
    app.add_handler(command(EXPORT.names, export_command))
