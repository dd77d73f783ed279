"""A composed digest leaves: its messages queued in the outbox, each marked as part of the
digest so that the sender completes the digest (sent, or failed) when the last one is out."""

from __future__ import annotations

from bot.digests.compose import ComposedDigest
from bot.engine import outbox
from bot.engine.effects import RecordDigest
from bot.engine.outbox import Priority
from storage.models import Chat


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
