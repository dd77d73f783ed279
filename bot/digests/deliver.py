"""A composed digest leaves: its messages queued in the outbox, each marked as part of the
digest so that the sender completes the digest (sent, or failed) when the last one is out;
or, when the chat turns its digest off, its messages still waiting are cancelled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.digests.compose import ComposedDigest
from bot.engine import outbox
from bot.engine.effects import RecordDigest
from bot.engine.outbox import Priority
from bot.engine.sending.outcomes import drop
from storage.models import Chat
from storage.outbox import pending_rows, redact_done


def queue_digest(chat: Chat, digest: ComposedDigest, digest_id: int) -> None:
    """Queue the digest's texts, then its chart, in the chat (its digest topic in a forum),
    in the current unit of work: they commit with the digest's record, never twice."""
    count = len(digest.parts) + (digest.chart is not None)
    for index, part in enumerate(digest.parts):
        effect = RecordDigest(digest_id, last=index == count - 1)
        outbox.send_text(
            chat.id, part, thread=chat.digest_thread_id, priority=Priority.DIGEST, effect=effect
        )
    if digest.chart is not None:
        outbox.send_chart(
            chat.id,
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
