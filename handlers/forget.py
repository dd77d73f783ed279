"""/forgetme [/oublier]: delete everything someone gave the bot, once they confirm."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp
from bot.core.arguments import number
from bot.core.callbacks import Callback, decode, encode
from bot.core.commands import FORGETME
from bot.core.formatting import escape
from bot.core.i18n import _, ngettext
from bot.core.refusals import NotYours, StaleButton
from bot.discussion.opinions import forget
from handlers.common import command
from handlers.request import Press, Request, handles, presses


@handles(FORGETME)
async def forget_command(request: Request) -> None:
    """Ask for confirmation before deleting everything the user gave the bot."""
    user = request.user
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
    request.reply(
        _(
            "This deletes all your votes, opinions and ratings (and the ratings of your "
            "opinions), in every chat, and cannot be undone. Are you sure, {name}?"
        ).format(name=escape(user.first_name)),
        reply_markup=keyboard,
    )


@presses(Callback.FORGET)
async def forget_button(press: Press) -> None:
    """Carry out (or cancel) a /forgetme once its author confirms."""
    fields = decode(Callback.FORGET, press.query.data, 2)
    asker = number(fields[0]) if fields is not None else None
    if fields is None or asker is None or fields[1] not in {"yes", "no"}:
        raise StaleButton
    person = press.user
    if asker != person.id:
        raise NotYours
    press.answer()
    if fields[1] == "no":
        await press.edit(_("Nothing was deleted."))
        return
    votes, opinions, ratings = await forget(
        press.session, person.id, {person.first_name, person.full_name}
    )
    await press.edit(done_text(votes, opinions, ratings))


def done_text(votes: int, opinions: int, ratings: int) -> str:
    """What was deleted; ratings are named only for someone who rated."""
    counts = {
        "votes": ngettext("{count} vote", "{count} votes", votes).format(count=votes),
        "opinions": ngettext("{count} opinion", "{count} opinions", opinions).format(
            count=opinions
        ),
        "ratings": ngettext("{count} rating", "{count} ratings", ratings).format(count=ratings),
    }
    if ratings:
        return _("Done: {votes}, {opinions} and {ratings} deleted.").format(**counts)
    return _("Done: {votes} and {opinions} deleted.").format(**counts)


def register(app: AgoraApp) -> None:
    app.add_handler(command(FORGETME.names, forget_command))
    app.add_handler(CallbackQueryHandler(forget_button, pattern=Callback.FORGET.pattern))
