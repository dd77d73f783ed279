"""/opinions [/avis]: the latest opinions on the chat's article, page by page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp, AgoraContext
from bot.core.callbacks import Callback
from bot.core.commands import OPINIONS
from bot.core.refusals import StaleButton
from bot.discussion.listing import Cursor, Shown, listing
from bot.discussion.rating import rate_button
from handlers.common import command, current_article
from handlers.rating import rate_link
from handlers.request import Press, Request, handles, presses
from storage.models import Chat


def shown(context: AgoraContext, chat: Chat, zone: ZoneInfo) -> Shown:
    """How the chat's listing shows: in a group, with its agreement and the rating button."""
    if chat.type == ChatType.PRIVATE:
        return Shown(current_article(context, chat), zone)
    button = rate_button(rate_link(context, chat))
    return Shown(current_article(context, chat), zone, button)


async def send_listing(request: Request) -> None:
    """Answer with the first page of the chat's listing."""
    chat = request.chat
    page = await listing(request.session, shown(request.context, chat, request.zone), chat.id)
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
    if cursor is not None and chat is not None:
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
