"""/opinions [/avis]: the latest opinions on the chat's article, page by page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp, AgoraContext
from bot.core.callbacks import Callback
from bot.core.commands import OPINIONS
from bot.core.localtime import chat_zone
from bot.core.refusals import StaleButton
from bot.discussion.links import rate_url
from bot.discussion.listing import Cursor, Shown, listing
from bot.discussion.rating import rate_button
from handlers.common import command, current_article
from handlers.rating import rate_link
from handlers.request import Press, Request, handles, presses
from storage.channels import find_channel, opinions_chat
from storage.models import Chat


def shown(context: AgoraContext, chat: Chat, zone: ZoneInfo) -> Shown:
    """How the chat's listing shows: in a group, with its agreement and the rating button."""
    if chat.type == ChatType.PRIVATE:
        return Shown(current_article(context, chat), zone)
    button = rate_button(rate_link(context, chat))
    return Shown(current_article(context, chat), zone, button)


def channel_shown(context: AgoraContext, channel: Chat, zone: ZoneInfo) -> Shown:
    """A channel's listing, read in private: the opinions of its discussion group, rated
    there."""
    token = context.services.settings.bot_token.get_secret_value()
    button = rate_button(rate_url(context.bot.username, token, opinions_chat(channel)))
    return Shown(current_article(context, channel), zone, button, channel=channel.id)


async def send_listing(request: Request) -> None:
    """Answer with the first page of the chat's listing (in private, /opinions @name: the
    channel's)."""
    chat, context = request.chat, request.context
    if request.on_channel:
        view = channel_shown(context, chat, request.zone)
    else:
        view = shown(context, chat, request.zone)
    page = await listing(request.session, view, opinions_chat(chat))
    assert page is not None  # the first page always exists
    request.reply(page.text, reply_markup=page.keyboard)


@handles(OPINIONS)
async def opinions_command(request: Request) -> None:
    """List the latest opinions on the chat's article."""
    await send_listing(request)


@presses(Callback.OPINIONS)
async def listing_page(press: Press) -> None:
    """Turn the pages of an opinion listing; an outdated or forged button changes nothing."""
    cursor, chat = Cursor.decode(press.query.data), press.chat
    page = None
    if cursor is not None and cursor.channel is not None:  # a channel's, read in private
        channel = await find_channel(press.session, cursor.channel)
        if channel is not None:
            zone = chat_zone(channel, press.context.services.settings)
            view = channel_shown(press.context, channel, zone)
            page = await listing(press.session, view, opinions_chat(channel), cursor)
    elif cursor is not None and chat is not None:
        # The opinion the button starts from must be on the chat's current article.
        page = await listing(
            press.session, shown(press.context, chat, press.zone), chat.id, cursor
        )
    if page is None:
        raise StaleButton
    press.answer()
    await press.edit(page.text, page.keyboard)


def register(app: AgoraApp) -> None:
    app.add_handler(command(OPINIONS.names, opinions_command))
    app.add_handler(CallbackQueryHandler(listing_page, pattern=Callback.OPINIONS.pattern))
