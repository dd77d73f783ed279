"""What a call's outcome records: once sent, what the call taught (a poll's ids, a summary's
message id, a digest's completion); once dropped, for whatever reason (refused, given up, the
chat gone, a digest cancelled), its digest failed. One drop path, one count of each digest."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.engine import metrics
from bot.engine.effects import (
    Effect,
    RecordDigest,
    RecordFinalResults,
    RecordPoll,
    RecordSummary,
    from_json,
)
from storage.closes import get_close, record_results_message
from storage.digests import FAILED, SENT, finish_digest
from storage.models import OutboxMessage
from storage.opinions import record_summary_post
from storage.outbox import DROPPED, count_messages, finish, finish_sent
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
            await count_messages(session, row, len(result))
        effect = from_json(row.effect)
        if effect is None:
            continue
        try:
            async with session.begin_nested():
                await record(session, row.chat_id, effect, result, now)
        except UNRECORDABLE:  # the message is out: keep it marked sent
            log.exception("could not record what outbox row %d taught", row.id)
    return [None] * len(sent)


async def record(
    session: AsyncSession, chat_id: int, effect: Effect, result: Any, now: datetime
) -> None:
    """Record what a call sent to `chat_id` taught, from Telegram's answer `result`."""
    match effect:
        case RecordPoll() if isinstance(result, Message) and result.poll is not None:
            # Posted while its chat closed the article's polls: recorded closed.
            close = await get_close(session, chat_id, effect.article_id)
            await record_posted_poll(
                session,
                poll_id=result.poll.id,
                chat_id=chat_id,
                message_id=result.message_id,
                article_id=effect.article_id,
                question_key=effect.question_key,
                language=effect.language,
                anonymous=effect.anonymous,
                multiple=effect.multiple,
                option_ids=[option.persistent_id for option in result.poll.options],
                posted_at=result.date,
                closed_at=close.closed_at if close is not None else None,
                round_number=effect.round,
                via_chat_id=effect.via,
            )
        case RecordSummary() if isinstance(result, Message):
            await record_summary_post(session, chat_id, result.message_id, effect.article_id)
        case RecordFinalResults() if isinstance(result, Message):
            await record_results_message(
                session, chat_id, effect.article_id, result.message_id
            )
        case RecordDigest(last=True):
            if await finish_digest(session, effect.digest_id, SENT, now):
                metrics.DIGESTS.labels("sent").inc()
        case _:  # nothing to record (a fallback text is for a refusal)
            pass


async def drop(session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime) -> None:
    """Mark rows dropped (not sent, never to be); the digests they belonged to end failed,
    each counted once."""
    await finish(session, [row.id for row in rows], DROPPED, now)
    digests = {
        effect.digest_id
        for effect in (from_json(row.effect) for row in rows)
        if isinstance(effect, RecordDigest)
    }
    for digest_id in sorted(digests):
        if await finish_digest(session, digest_id, FAILED, None):
            metrics.DIGESTS.labels("failed").inc()
