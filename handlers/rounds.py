"""A new round of the polls after a close: the button /poll shows an admin once the polls are
closed (handlers.polls.ask_next_round) opens it, or leaves them closed."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp
from bot.core.arguments import number
from bot.core.callbacks import Callback, decode
from bot.core.commands import RESULTS
from bot.core.i18n import _, current_language
from bot.core.refusals import StaleButton
from handlers.common import current_article, thread_of
from handlers.polls import queue_polls
from handlers.request import Press, presses
from storage.closes import open_round


@presses(Callback.ROUND)
async def round_button(press: Press) -> None:
    """Open the round the button names (admins only in groups), once: a second press, or a
    press after another admin opened it, changes nothing."""
    fields = decode(Callback.ROUND, press.query.data, 3)
    round_number = number(fields[0]) if fields is not None else None
    chat = press.chat
    if (
        fields is None
        or round_number is None
        or round_number < 2
        or fields[1] not in {"-", "a", "h", "ah"}
        or fields[2] not in {"yes", "no"}
        or chat is None
    ):
        raise StaleButton
    press.require_admin()
    press.answer()
    language = current_language()
    results = RESULTS.name(language)
    if fields[2] == "no":
        await press.edit(
            _("The polls stay closed. Final results: /{results}").format(results=results)
        )
        return
    article = current_article(press.context, chat)
    anonymous, hidden = "a" in fields[1], "h" in fields[1]
    if not await open_round(press.session, chat.id, article.id, round_number, hidden=hidden):
        raise StaleButton
    await press.edit(
        _(
            "Round {number} is open: its polls follow. /{results} shows them beside round "
            "{previous}."
        ).format(number=round_number, results=results, previous=round_number - 1)
    )
    queue_polls(
        chat.id, thread_of(press.update), article, language, anonymous, hidden, round_number
    )


def register(app: AgoraApp) -> None:
    app.add_handler(CallbackQueryHandler(round_button, pattern=Callback.ROUND.pattern))
