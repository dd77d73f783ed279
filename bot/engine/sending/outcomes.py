"""What a call taught, recorded once Telegram has answered: a poll's ids, a summary's message
id, a digest's completion (sent, or failed when its message was dropped)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.engine import metrics
from storage.digests import FAILED, SENT, finish_digest
from storage.models import OutboxMessage
from storage.opinions import record_summary_post
from storage.outbox import count_messages, finish_sent
from storage.polls import record_posted_poll

log = logging.getLogger(__name__)


#: Errors that say what a call taught cannot be recorded, however often it is tried (a
#: defect): logged, the row stays sent. Any other error of the database's fails the whole
#: mark, which the sender tries again (bot.engine.sending.delivery).
UNRECORDABLE = (IntegrityError, DataError, ProgrammingError, LookupError, TypeError, ValueError)


async def mark_sent(
    session: AsyncSession, sent: list[tuple[OutboxMessage, Any]]
) -> list[None]:
    """Mark rows sent and record what their calls taught, in one transaction (rows already
    marked, by a mark whose commit was not confirmed, are not recorded twice)."""
    now = datetime.now(UTC)
    marked = await finish_sent(session, [row.id for row, _ in sent], now)
    for row, result in sent:
        if row.id not in marked:
            continue
        if isinstance(result, tuple | list) and len(result) > 1:  # an album
            await count_messages(session, row.id, row.effect, len(result))
        if row.effect:
            try:
                async with session.begin_nested():
                    await record(session, row, result, now)
            except UNRECORDABLE:  # the message is out: keep it marked sent
                log.exception("could not record what outbox row %d taught", row.id)
    return [None] * len(sent)


async def record(
    session: AsyncSession, row: OutboxMessage, result: Any, now: datetime
) -> None:
    effect = row.effect or {}
    kind = effect.get("kind")
    if kind == "poll" and isinstance(result, Message) and result.poll is not None:
        await record_posted_poll(
            session,
            poll_id=result.poll.id,
            chat_id=row.chat_id,
            message_id=result.message_id,
            article_id=effect["article_id"],
            question_key=effect["question_key"],
            language=effect["language"],
            anonymous=effect["anonymous"],
            multiple=effect["multiple"],
            option_ids=[option.persistent_id for option in result.poll.options],
            posted_at=result.date,
        )
    elif kind == "summary" and isinstance(result, Message):
        await record_summary_post(session, row.chat_id, result.message_id, effect["article_id"])
    elif kind == "digest" and effect.get("last"):
        await finish_digest(session, effect["digest_id"], SENT, now)
        metrics.DIGESTS.labels("sent").inc()


async def after_drop(session: AsyncSession, row: OutboxMessage) -> None:
    effect = row.effect or {}
    if effect.get("kind") == "digest":
        await finish_digest(session, effect["digest_id"], FAILED, None)
        metrics.DIGESTS.labels("failed").inc()
