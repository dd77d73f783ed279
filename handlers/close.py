"""/close [/cloturer]: close the chat's polls now (final results follow), later ("2h", "3d",
"18:30"), or cancel a close to come ("off")."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.context import AgoraApp
from bot.core.arguments import delay, time_of_day
from bot.core.commands import CLOSE, CLOSE_OFF, RESULTS
from bot.core.formatting import echo, escape
from bot.core.i18n import _, using_language
from bot.core.localtime import chat_language
from bot.core.refusals import Unclear
from bot.digests.closing import (
    LATEST,
    SOONEST,
    Closing,
    close_now,
    has_polls,
    schedule,
    unschedule,
)
from bot.engine import outbox
from bot.engine.transaction import current_unit
from bot.insights.closing_text import (
    already_closed_text,
    cancelled_text,
    no_polls_text,
    nothing_scheduled_text,
    scheduled_text,
    too_soon_text,
    unclear_text,
)
from handlers.common import command
from handlers.request import Request, channel_handle, channel_title, handles
from storage.closes import ensure_close, get_close


def close_moment(word: str, now: datetime) -> datetime:
    """When "2h", "3d" (or "3j") or "18:30" (the next one, in `now`'s zone) says to close;
    Unclear if it is none of these, or out of bounds."""
    seconds, at = delay(word), time_of_day(word)
    if seconds is not None:
        due = now + timedelta(seconds=seconds)
    elif at is not None:
        due = now.replace(hour=at[0], minute=at[1], second=0, microsecond=0)
        if due <= now:
            due += timedelta(days=1)  # wall-clock time: the zone keeps 18:30 at 18:30
    else:
        raise Unclear(unclear_text(echo(word)))
    if due - now < SOONEST:
        raise Unclear(too_soon_text(int(SOONEST.total_seconds() // 60)))
    if due - now > LATEST:
        raise Unclear(unclear_text(echo(word)))
    return due


@handles(CLOSE)
async def close_command(request: Request) -> None:
    """Close the polls of the chat's article, or schedule their close (admins only)."""
    session, chat, article = request.session, request.chat, request.article
    found = await get_close(session, chat.id, article.id)
    if found is not None and found.closed_at is not None:
        message = found.results_message_id
        if request.on_channel:
            request.reply(
                _("The polls of {channel} are already closed. Results: /{results} {name}").format(
                    channel=channel_title(chat),
                    results=RESULTS.name(request.language),
                    name=escape(channel_handle(chat)),
                )
            )
        elif message is not None and message > 0:
            outbox.send_text(
                chat.id, already_closed_text(True), thread=request.thread, reply_to=message
            )
        else:
            request.reply(already_closed_text(False))
        return
    if not await has_polls(session, chat.id, article.id):
        request.reply(no_polls_text())
        return
    word = request.args[0].strip().lower() if request.args else None
    now = request.context.digests.clock().astimezone(request.zone)
    # An unclear moment is told before the rights: anyone may learn the form.
    due = close_moment(word, now) if word is not None and word not in CLOSE_OFF else None
    request.require_admin()
    if word is None:
        closing = Closing(chat, article, request.zone, request.thread)
        if not request.on_channel:
            await close_now(session, closing, now)
            return
        # The final results go to the channel, in its language; its administrator is told.
        with using_language(chat_language(chat, request.context.services.settings)):
            await close_now(session, closing, now)
        request.reply(
            _("The polls of “{article}” are closed, in the channel and in private; the final "
              "results are on their way to {channel}.").format(
                article=escape(article.title[request.language]),
                channel=channel_title(chat),
            )
        )
        return
    close = await ensure_close(session, chat.id, article.id)
    if due is None:  # off
        request.reply(cancelled_text() if unschedule(close) else nothing_scheduled_text())
        return
    schedule(close, due, now)
    closes = request.context.digests.closes
    moments = (close.due_at, close.remind_at)
    current_unit().on_commit(lambda: closes.arm(moments))
    request.reply(scheduled_text(due))


def register(app: AgoraApp) -> None:
    app.add_handler(command(CLOSE.names, close_command))
