"""/opinions [/avis]: the latest opinions on the chat's article, page by page."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.arguments import number
from bot.callbacks import Callback, decode
from bot.commands import OPINIONS
from bot.context import AgoraApp, AgoraContext
from bot.i18n import _
from bot.listing import listing
from bot.localtime import chat_zone
from bot.transaction import with_session
from handlers.common import (
    answer_query,
    command,
    current_article,
    edit_query_message,
    reply,
    stored_chat,
)


async def send_listing(
    session: AsyncSession, update: Update, context: AgoraContext, page: int
) -> None:
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    zone = chat_zone(chat, context.services.settings)
    text, keyboard, _pages = await listing(
        session, current_article(context, chat), chat.id, zone, page
    )
    reply(update, text, reply_markup=keyboard)


@with_session
async def opinions_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """List the latest opinions on the chat's article."""
    await send_listing(session, update, context, page=0)


@with_session
async def listing_page(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Turn the pages of an opinion listing; an outdated or forged button changes nothing."""
    query = update.callback_query
    assert query is not None
    fields = decode(Callback.OPINIONS, query.data, 2)
    chat = await stored_chat(session, update.effective_chat) if update.effective_chat else None
    page = number(fields[1]) if fields is not None else None
    article = current_article(context, chat) if chat is not None else None
    if fields is None or chat is None or page is None or article is None:
        answer_query(update, _("This button is no longer valid."))
        return
    if fields[0] != article.id:  # a listing of the chat's previous article
        answer_query(update, _("This button is no longer valid."))
        return
    zone = chat_zone(chat, context.services.settings)
    text, keyboard, pages = await listing(session, article, chat.id, zone, page)
    if page >= pages:
        answer_query(update, _("This button is no longer valid."))
        return
    answer_query(update)
    await edit_query_message(session, update, text, keyboard)


def register(app: AgoraApp) -> None:
    app.add_handler(command(OPINIONS.names, opinions_command))
    app.add_handler(CallbackQueryHandler(listing_page, pattern=Callback.OPINIONS.pattern))
