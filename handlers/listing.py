"""/opinions [/avis]: the latest opinions on the chat's article, page by page."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.context import AgoraApp, AgoraContext
from bot.core.callbacks import Callback
from bot.core.commands import OPINIONS
from bot.core.i18n import _
from bot.core.localtime import chat_zone
from bot.discussion.listing import Cursor, listing
from bot.engine.transaction import with_session
from handlers.common import (
    answer_query,
    command,
    current_article,
    edit_query_message,
    reply,
    stored_chat,
)


async def send_listing(session: AsyncSession, update: Update, context: AgoraContext) -> None:
    """Answer with the first page of the chat's listing."""
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    zone = chat_zone(chat, context.services.settings)
    page = await listing(session, current_article(context, chat), chat.id, zone)
    assert page is not None  # the first page always exists
    reply(update, page.text, reply_markup=page.keyboard)


@with_session
async def opinions_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """List the latest opinions on the chat's article."""
    await send_listing(session, update, context)


@with_session
async def listing_page(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Turn the pages of an opinion listing; an outdated or forged button changes nothing."""
    query = update.callback_query
    assert query is not None
    cursor = Cursor.decode(query.data)
    chat = await stored_chat(session, update.effective_chat) if update.effective_chat else None
    page = None
    if cursor is not None and chat is not None:
        zone = chat_zone(chat, context.services.settings)
        # The opinion the button starts from must be on the chat's current article.
        page = await listing(session, current_article(context, chat), chat.id, zone, cursor)
    if page is None:
        answer_query(update, _("This button is no longer valid."))
        return
    answer_query(update)
    await edit_query_message(session, update, page.text, page.keyboard)


def register(app: AgoraApp) -> None:
    app.add_handler(command(OPINIONS.names, opinions_command))
    app.add_handler(CallbackQueryHandler(listing_page, pattern=Callback.OPINIONS.pattern))
