"""A composed digest leaves: its messages queued in the outbox, each marked as part of the
digest so that the sender completes the digest (sent, or failed) when the last one is out;
or, when the chat turns its digest off, its messages still waiting are cancelled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup
from telegram.constants import ChatType

from bot.digests.compose import ComposedDigest
from bot.engine import outbox
from bot.engine.effects import RecordDigest
from bot.engine.outbox import Priority
from bot.engine.sending.outcomes import drop
from storage.channels import digest_chat, opinions_chat
from storage.models import Chat
from storage.opinions import count_opinions
from storage.outbox import pending_rows, redact_done

#: The keyboard under a group's digest that opens the rating of its opinions in private
#: (bot.app makes it: the deep link is the discussion's), from the group's id.
RateKeyboard = Callable[[int], InlineKeyboardMarkup]


async def digest_keyboard(
    session: AsyncSession, chat: Chat, article_id: str, make: RateKeyboard | None
) -> InlineKeyboardMarkup | None:
    """In a group with opinions on the article, the button to rate them (in the current
    language); none in private, nor where there is nothing to rate."""
    if make is None or chat.type == ChatType.PRIVATE:
        return None
    written_in = opinions_chat(chat)  # a channel's: in its discussion group
    if not await count_opinions(session, written_in, article_id):
        return None
    return make(written_in)


def queue_digest(
    chat: Chat,
    digest: ComposedDigest,
    digest_id: int,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """Queue the digest's texts (the `keyboard` under the last one), then its chart, in the
    chat (its digest topic in a forum; a channel's discussion group if it chose so), in the
    current unit of work: they commit with the digest's record, never twice."""
    count = len(digest.parts) + (digest.chart is not None)
    destination = digest_chat(chat)
    for index, part in enumerate(digest.parts):
        effect = RecordDigest(digest_id, last=index == count - 1)
        outbox.send_text(
            destination,
            part,
            thread=chat.digest_thread_id,
            priority=Priority.DIGEST,
            effect=effect,
            reply_markup=keyboard if index == len(digest.parts) - 1 else None,
        )
    if digest.chart is not None:
        outbox.send_chart(
            destination,
            digest.chart,
            digest.caption,
            thread=chat.digest_thread_id,
            effect=RecordDigest(digest_id, last=True),
        )


async def cancel_queued_digests(session: AsyncSession, chat_id: int, now: datetime) -> int:
    """Drop the chat's digest messages still waiting to be sent, as the sender drops a call
    (their digests end failed, counted once), and blank them: their excerpts name people.
    Does not commit; how many were dropped."""
    rows = await pending_rows(session, chat_id=chat_id, priority=Priority.DIGEST)
    await drop(session, rows, now)
    await redact_done(session, [row.id for row in rows])
    return len(rows)
