"""Opinions: replies to the bot's polls and summaries, /opinion [/avis], and their edits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import MessageHandler, filters

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import OPINION, SUMMARY
from bot.core.i18n import _, current_language
from bot.core.localtime import chat_zone, moment_text
from bot.discussion.opinions import (
    RATE_COUNT,
    TooSoon,
    author_of,
    length_problem,
    opinion_text,
    store_opinion,
)
from bot.engine import outbox
from bot.engine.transaction import with_session
from handlers.common import command, current_article, reply, stored_chat, thread_of
from handlers.listing import send_listing
from storage.opinions import Target, opinion_by_message, reply_target

REACTION = "👍"


def checked_text(update: Update, message: Message) -> str | None:
    """The opinion the message holds, or None once its author is told why it cannot be one."""
    text = opinion_text(message)
    problem = length_problem(text)
    if problem is not None:
        reply(update, problem)
        return None
    return text


async def record(
    session: AsyncSession, update: Update, context: AgoraContext, target: Target
) -> None:
    """Store the update's message as an opinion on `target`, and thank its author."""
    message = update.effective_message
    assert message is not None
    assert update.effective_chat is not None
    author = author_of(message)
    if author is None:
        return
    text = checked_text(update, message)
    if text is None:
        return
    chat = await stored_chat(session, update.effective_chat)
    try:
        stored = await store_opinion(session, message, chat.id, author, text, target)
    except TooSoon as wait:
        again = moment_text(wait.again, chat_zone(chat, context.services.settings), time_only=True)
        reply(
            update,
            _(
                "You have shared {count} opinions in the last 10 minutes. You can post again "
                "at {time}."
            ).format(count=RATE_COUNT, time=again),
        )
        return
    if stored is not None:
        thanks = _("Thank you, your opinion is recorded.")
        outbox.react(
            message.chat_id,
            message.message_id,
            REACTION,
            fallback=outbox.text_payload(thanks, thread=thread_of(update)),
        )


@with_session
async def reply_to_bot(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """A reply to one of the bot's polls or summaries is an opinion on that question."""
    message = update.effective_message
    assert message is not None
    assert message.reply_to_message is not None
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    target = await reply_target(session, message.chat_id, replied.message_id)
    if target is not None:
        await record(session, update, context, target)
    elif message.chat.type == ChatType.PRIVATE:
        language = current_language()
        reply(
            update,
            _(
                "To give your opinion, reply to a poll or to the summary (/{summary}), or "
                "write /{opinion} followed by your text."
            ).format(summary=SUMMARY.name(language), opinion=OPINION.name(language)),
        )


@with_session
async def opinion_command(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """/opinion <text>: an opinion on the article; without text, the latest opinions."""
    assert update.effective_chat is not None
    if not context.args:
        await send_listing(session, update, context)
        return
    chat = await stored_chat(session, update.effective_chat)
    await record(session, update, context, Target(current_article(context, chat).id, None))


@with_session
async def opinion_edited(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Editing an opinion's message updates the stored opinion."""
    message = update.edited_message
    assert message is not None
    opinion = await opinion_by_message(session, message.chat_id, message.message_id)
    if opinion is None:
        return
    text = checked_text(update, message)
    if text is None:
        return
    opinion.text = text
    opinion.edited_at = message.edit_date or datetime.now(UTC)


def register(app: AgoraApp) -> None:
    app.add_handler(command(OPINION.names, opinion_command))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.REPLY & filters.TEXT & ~filters.COMMAND,
            reply_to_bot,
        )
    )
    app.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, opinion_edited)
    )
