"""/export [/exporter]: the chat's results and opinions as a CSV file (bot.discussion.export)."""

from __future__ import annotations

from bot.context import AgoraApp
from bot.core.commands import EXPORT
from bot.core.i18n import current_language
from bot.discussion.export import Export, chat_export
from bot.engine import outbox
from handlers.common import command
from handlers.request import Request, handles


@handles(EXPORT)
async def export_command(request: Request) -> None:
    """Send this chat's results and opinions as a CSV file (admins only in groups; a
    channel's, named in private, to its administrator)."""
    zone, article, chat_id = request.zone, request.article, request.chat.id
    database, thread = request.context.services.database, request.thread
    asker = request.message.chat_id  # a channel's file goes to its administrator, in private

    async def compute() -> Export:
        async with database.read() as reading:
            return await chat_export(reading, article, chat_id, zone)

    def answer(export: Export) -> None:
        outbox.send_document(
            asker, export.content, export.filename, export.caption, thread=thread
        )

    # Every answer of a large group: read and written after this update's transaction. The
    # file is in the chat's language and time zone: both are part of what it depends on.
    key = (article.id, chat_id, current_language(), zone.key)
    request.later("export", key, compute, answer)


def register(app: AgoraApp) -> None:
    app.add_handler(command(EXPORT.names, export_command))
