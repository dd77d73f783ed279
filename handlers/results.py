"""/results [/resultats]: each question's counts, shares and bars, here and in all chats."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import RESULTS
from bot.core.localtime import chat_zone
from bot.digests.text import standings, to_numbers
from bot.engine.transaction import with_session
from bot.insights.results_text import results_blocks
from handlers.common import command, current_article, reply_blocks, stored_chat
from storage.digests import digest_before
from storage.polls import article_results


@with_session
async def show_results(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Send the results of the chat's article."""
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    article = current_article(context, chat)
    here = await article_results(session, article.id, chat.id)
    everywhere = await article_results(session, article.id)
    # Trends: each share's change since the chat's latest digest before today (its numbers
    # are recorded with it); none without a digest.
    scheduler = context.digests
    today = scheduler.clock().astimezone(chat_zone(chat, context.services.settings)).date()
    previous = await digest_before(session, chat.id, today)
    numbers = to_numbers(here, everywhere)
    before = previous.numbers if previous is not None else None
    since = previous.local_date if previous is not None else None
    private = chat.type == ChatType.PRIVATE
    reply_blocks(
        update, results_blocks(article, standings(article, numbers, before), private, since)
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(RESULTS.names, show_results))
