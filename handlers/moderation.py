"""/delete [/supprimer]: remove an opinion, in reply to it or by its number."""

from __future__ import annotations

from bot.context import AgoraApp
from bot.core.arguments import number
from bot.core.commands import DELETE, OPINIONS
from bot.core.i18n import _
from bot.core.refusals import Unclear
from bot.discussion.opinions import author_of
from handlers.common import command
from handlers.request import Request, handles
from storage.models import INTEGER_MAX
from storage.opinions import opinion_by_id, opinion_by_message


@handles(DELETE)
async def delete_command(request: Request) -> None:
    """Remove an opinion: in reply to it, or by its number (admins, or its author)."""
    session, message, chat_id = request.session, request.message, request.chat.id
    opinion = None
    given = number(request.args[0].removeprefix("#"), INTEGER_MAX) if request.args else None
    if given is not None:
        opinion = await opinion_by_id(session, chat_id, given)
    elif message.reply_to_message is not None:
        opinion = await opinion_by_message(session, chat_id, message.reply_to_message.message_id)
    if opinion is None:
        raise Unclear(
            _(
                "Reply with /{delete} to the opinion to remove, or give its number from "
                "/{opinions}: /{delete} 12."
            ).format(delete=DELETE.name(request.language), opinions=OPINIONS.name(request.language))
        )
    author = author_of(message)
    if author is None or author[0] != opinion.user_id:
        request.require_admin()
    await session.delete(opinion)
    request.reply(_("Opinion #{id} removed.").format(id=opinion.id))


def register(app: AgoraApp) -> None:
    app.add_handler(command(DELETE.names, delete_command))
