"""/forgetme [/oublier]: delete everything someone gave the bot, once they confirm."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp, AgoraContext
from bot.core.arguments import number
from bot.core.callbacks import Callback, decode, encode
from bot.core.commands import FORGETME
from bot.core.formatting import escape
from bot.core.i18n import _, ngettext
from bot.discussion.opinions import forget
from bot.engine.transaction import with_session
from handlers.common import answer_query, command, edit_query_message, reply


@with_session
async def forget_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Ask for confirmation before deleting everything the user gave the bot."""
    user = update.effective_user
    if user is None:
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Yes, delete everything"),
                    callback_data=encode(Callback.FORGET, user.id, "yes"),
                ),
                InlineKeyboardButton(
                    _("Cancel"), callback_data=encode(Callback.FORGET, user.id, "no")
                ),
            ]
        ]
    )
    reply(
        update,
        _(
            "This deletes all your votes and opinions, in every chat, and cannot be undone. "
            "Are you sure, {name}?"
        ).format(name=escape(user.first_name)),
        reply_markup=keyboard,
    )


@with_session
async def forget_button(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Carry out (or cancel) a /forgetme once its author confirms."""
    query = update.callback_query
    assert query is not None
    fields = decode(Callback.FORGET, query.data, 2)
    asker = number(fields[0]) if fields is not None else None
    if fields is None or asker is None or fields[1] not in {"yes", "no"}:
        answer_query(update, _("This button is no longer valid."))
        return
    if asker != query.from_user.id:
        answer_query(update, _("Only the person who asked can answer this."), show_alert=True)
        return
    answer_query(update)
    if fields[1] == "no":
        await edit_query_message(session, update, _("Nothing was deleted."))
        return
    person = query.from_user
    votes, opinions = await forget(session, person.id, {person.first_name, person.full_name})
    await edit_query_message(
        session,
        update,
        _("Done: {votes} and {opinions} deleted.").format(
            votes=ngettext("{count} vote", "{count} votes", votes).format(count=votes),
            opinions=ngettext("{count} opinion", "{count} opinions", opinions).format(
                count=opinions
            ),
        ),
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(FORGETME.names, forget_command))
    app.add_handler(CallbackQueryHandler(forget_button, pattern=Callback.FORGET.pattern))
