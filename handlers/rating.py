"""/rate [/evaluer] and the rating buttons: the others' opinions, one at a time, in private.

In a group, /rate answers with the button that opens the private chat (a deep link naming
the group); in private, /rate rates the group where the person last voted or wrote, and
/start with a link's payload the group it names. A press records the rating and edits the
same message to the next opinion (bot.discussion.rating says which).
"""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardMarkup
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import AgoraApp, AgoraContext
from bot.core.callbacks import Callback
from bot.core.commands import OPINIONS, RATE
from bot.core.i18n import _
from bot.core.refusals import StaleButton, Unclear
from bot.discussion.links import rate_url, rated_group
from bot.discussion.rating import RateButton, next_card, outcome_notice, rate_button, record_press
from handlers.common import command, current_article
from handlers.request import Press, Request, handles, presses
from storage.chats import get_chat
from storage.models import Chat
from storage.ratings import last_group_of


def token(context: AgoraContext) -> str:
    return context.services.settings.bot_token.get_secret_value()


def rate_link(context: AgoraContext, chat: Chat) -> str:
    """The deep link to rate `chat`'s opinions in private."""
    return rate_url(context.bot.username, token(context), chat.id)


async def show_card(request: Request, group: Chat, user_id: int) -> None:
    article = current_article(request.context, group)
    card = await next_card(request.session, group, article, user_id, token(request.context))
    request.reply(card.text, reply_markup=card.keyboard)


@handles(RATE)
async def rate_command(request: Request) -> None:
    """In a group: the button to rate in private; in private: the next opinion to rate."""
    user = request.user
    if user is None:
        return
    if not request.private:
        keyboard = InlineKeyboardMarkup([[rate_button(rate_link(request.context, request.chat))]])
        request.reply(
            _("The opinions are rated one at a time, in private, so as not to flood the group:"),
            reply_markup=keyboard,
        )
        return
    group_id = await last_group_of(request.session, user.id)
    group = await get_chat(request.session, group_id) if group_id is not None else None
    if group is None:
        raise Unclear(
            _(
                "Which group? Press “Rate the others' opinions” under /{opinions} in a group, or "
                "vote or write there first."
            ).format(opinions=OPINIONS.name(request.language))
        )
    await show_card(request, group, user.id)


@handles(RATE)
async def start_rating(request: Request) -> None:
    """/start rate_…: the deep link from a group's button; a forged one names no group."""
    user, args = request.user, request.args
    group_id = rated_group(token(request.context), args[0]) if args else None
    group = await get_chat(request.session, group_id) if group_id is not None else None
    if user is None or group is None or not request.private:
        raise Unclear(
            _("This link is no longer valid: use /{rate}.").format(
                rate=RATE.name(request.language)
            )
        )
    await show_card(request, group, user.id)


@presses(Callback.RATE)
async def rate_press(press: Press) -> None:
    """Record a rating and move the same message on to the next opinion."""
    settings_token = token(press.context)
    button = RateButton.decode(settings_token, press.query.data)
    group = await get_chat(press.session, button.chat_id) if button is not None else None
    if button is None or group is None:
        raise StaleButton
    outcome = await record_press(press.session, button, press.user.id, datetime.now(UTC))
    press.answer(outcome_notice(outcome))
    article = current_article(press.context, group)
    card = await next_card(press.session, group, article, press.user.id, settings_token)
    await press.edit(card.text, card.keyboard)


def register(app: AgoraApp) -> None:
    # Before /help's /start: a /start that carries a rating link's payload.
    starting = filters.UpdateType.MESSAGE & filters.Regex(r"^/start(@\w+)? rate_")
    app.add_handler(CommandHandler("start", start_rating, filters=starting))
    app.add_handler(command(RATE.names, rate_command))
    app.add_handler(CallbackQueryHandler(rate_press, pattern=Callback.RATE.pattern))
