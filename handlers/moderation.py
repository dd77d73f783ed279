"""/delete [/supprimer]: remove an opinion, in reply to it or by its number."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.arguments import number
from bot.commands import DELETE, OPINIONS
from bot.context import AgoraApp, AgoraContext
from bot.i18n import _, current_language
from bot.opinions import author_of
from bot.transaction import with_session
from handlers.common import command, is_admin, reply, stored_chat
from storage.models import INTEGER_MAX
from storage.opinions import opinion_by_id, opinion_by_message


@with_session
async def delete_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Remove an opinion: in reply to it, or by its number (admins, or its author)."""
    message = update.effective_message
    assert message is not None
    assert update.effective_chat is not None
    language = current_language()
    chat = await stored_chat(session, update.effective_chat)
    opinion = None
    given = number(context.args[0].removeprefix("#"), INTEGER_MAX) if context.args else None
    if given is not None:
        opinion = await opinion_by_id(session, chat.id, given)
    elif message.reply_to_message is not None:
        opinion = await opinion_by_message(session, chat.id, message.reply_to_message.message_id)
    if opinion is None:
        reply(
            update,
            _(
                "Reply with /{delete} to the opinion to remove, or give its number from "
                "/{opinions}: /{delete} 12."
            ).format(delete=DELETE.name(language), opinions=OPINIONS.name(language)),
        )
        return
    author = author_of(message)
    is_author = author is not None and author[0] == opinion.user_id
    if not is_author and not is_admin(update, context):
        reply(
            update, _("Only the group's administrators or the opinion's author can remove it.")
        )
        return
    await session.delete(opinion)
    reply(update, _("Opinion #{id} removed.").format(id=opinion.id))


def register(app: AgoraApp) -> None:
    app.add_handler(command(DELETE.names, delete_command))
