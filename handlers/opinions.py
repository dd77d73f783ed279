"""Opinions: replies to the bot's polls and summaries, /opinion [/avis], and their edits."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Message, MessageOriginChannel, Update
from telegram.ext import MessageHandler, filters

from bot.context import AgoraApp
from bot.core.commands import OPINION, SUMMARY
from bot.core.i18n import _
from bot.discussion.opinions import author_of, length_problem, opinion_text, store_opinion
from bot.engine import outbox
from handlers.common import command, reply
from handlers.listing import send_listing
from handlers.request import Request, handles
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


async def record(request: Request, target: Target) -> None:
    """Store the request's message as an opinion on `target`, and thank its author."""
    message = request.message
    author = author_of(message)
    if author is None:
        return
    text = checked_text(request.update, message)
    if text is None:
        return
    # Past the rate limit, TooSoon: its author is told when they may write again.
    stored = await store_opinion(request.session, message, request.chat.id, author, text, target)
    if stored is not None:
        thanks = _("Thank you, your opinion is recorded.")
        outbox.react(
            message.chat_id,
            message.message_id,
            REACTION,
            fallback=outbox.text_payload(thanks, thread=request.thread),
        )


@handles()
async def reply_to_bot(request: Request) -> None:
    """A reply to one of the bot's polls or summaries is an opinion on that question, as is
    a reply, in a channel's discussion group, to the copy of the channel's poll or summary
    that Telegram forwards there."""
    message = request.message
    replied = message.reply_to_message
    assert replied is not None
    origin = replied.forward_origin
    if replied.is_automatic_forward and isinstance(origin, MessageOriginChannel):
        # In a channel's discussion group, Telegram's copy of one of the channel's posts.
        target = await reply_target(request.session, origin.chat.id, origin.message_id)
        if target is not None:
            await record(request, target)
        return
    if replied.from_user is None or replied.from_user.id != request.context.bot.id:
        return
    target = await reply_target(request.session, message.chat_id, replied.message_id)
    if target is not None:
        await record(request, target)
    elif request.private:
        language = request.language
        request.reply(
            _(
                "To give your opinion, reply to a poll or to the summary (/{summary}), or "
                "write /{opinion} followed by your text."
            ).format(summary=SUMMARY.name(language), opinion=OPINION.name(language))
        )


@handles(OPINION)
async def opinion_command(request: Request) -> None:
    """/opinion <text>: an opinion on the article; without text, the latest opinions."""
    if not request.args:
        await send_listing(request)
        return
    await record(request, Target(request.article.id, None))


@handles()
async def opinion_edited(request: Request) -> None:
    """Editing an opinion's message updates the stored opinion."""
    message = request.update.edited_message
    assert message is not None
    opinion = await opinion_by_message(request.session, message.chat_id, message.message_id)
    if opinion is None:
        return
    text = checked_text(request.update, message)
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
