"""Closing a chat's polls, in the caller's unit of work: the close recorded, the polls still
on their way left unposted, every open poll stopped (one stopPoll each, through the outbox),
then the final results and their chart queued behind the stops. Everything commits at once:
a crash between two stopPoll calls leaves the rest in the outbox, sent after the restart, and
the final results are queued once, with the close itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import Article
from bot.core.formatting import split_blocks
from bot.digests.chart import chart_spec
from bot.digests.drawing.style import TREND_DAYS
from bot.digests.text import to_numbers
from bot.engine import outbox
from bot.engine.effects import RecordFinalResults, RecordPoll, from_json
from bot.engine.outbox import Method
from bot.engine.sending.outcomes import drop
from bot.insights.closing_text import (
    closed_note,
    closing_note,
    final_blocks,
    final_caption,
    hidden_blocks,
)
from bot.insights.standings import Earlier, Tallies
from storage.closes import claim_close, close_polls, get_close, round_closed_at
from storage.digests import daily_digest_after, digests_since
from storage.models import Chat, PollClose, as_utc
from storage.outbox import pending_rows
from storage.polls import article_results, first_poll_message, round_results

log = logging.getLogger(__name__)

#: How far ahead a close may be scheduled, at the least and at the most.
SOONEST = timedelta(minutes=10)
LATEST = timedelta(days=90)
#: A reminder goes an hour before a close more than two hours away.
REMIND_BEFORE = timedelta(hours=1)
REMIND_BEYOND = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class Closing:
    """Where and how a close speaks: the chat, its article, zone and topic."""

    chat: Chat
    article: Article
    zone: ZoneInfo
    thread: int | None = None


async def has_polls(session: AsyncSession, chat_id: int, article_id: str) -> bool:
    """Whether the article's polls are posted in the chat, or on their way."""
    if await first_poll_message(session, chat_id, article_id) is not None:
        return True
    return await outbox.queued_polls(session, chat_id, article_id)


async def close_now(session: AsyncSession, closing: Closing, now: datetime) -> bool:
    """Close the article's polls in the chat and queue the final results, in the current
    unit (the current language is the chat's); False if they were closed already."""
    chat, article = closing.chat, closing.article
    if not await claim_close(session, chat.id, article.id, now.astimezone(UTC)):
        return False
    unposted = await _cancel_queued_polls(session, chat.id, article.id, now)
    stopped = await close_polls(session, chat.id, article.id, now.astimezone(UTC))
    for poll in stopped:
        # A poll posted in the group before it became a supergroup (its message id moved
        # below zero) cannot be stopped, nor answered any more: it is only marked closed.
        if poll.message_id > 0:
            outbox.stop_poll(poll.chat_id, poll.message_id)
    log.info(
        "chat %s closed %s: %d polls stopped, %d left unposted",
        chat.id, article.id, len(stopped), unposted, extra={"chat_id": chat.id},
    )
    await _queue_final_results(session, closing, now)
    return True


async def _cancel_queued_polls(
    session: AsyncSession, chat_id: int, article_id: str, now: datetime
) -> int:
    """Polls of the article still waiting to be posted are not posted: the discussion is
    over (one already in flight is recorded closed when Telegram answers)."""
    rows = [
        row
        for row in await pending_rows(session, chat_id=chat_id)
        if row.method == Method.SEND_POLL
        and isinstance(effect := from_json(row.effect), RecordPoll)
        and effect.article_id == article_id
    ]
    await drop(session, rows, now.astimezone(UTC))
    return len(rows)


async def _queue_final_results(session: AsyncSession, closing: Closing, now: datetime) -> None:
    chat, article = closing.chat, closing.article
    here = await article_results(session, article.id, chat.id)
    everywhere = await article_results(session, article.id)
    day = now.astimezone(closing.zone).date()
    earlier = await round_before(session, chat.id, article.id, closing.zone)
    parts = split_blocks(
        final_blocks(article, Tallies(here, everywhere), day, closing.chat.type, earlier)
    )
    for index, part in enumerate(parts):
        outbox.send_text(
            chat.id,
            part,
            thread=closing.thread,
            effect=RecordFinalResults(article.id) if index == 0 else None,
        )
    if any(tally.voters for tally in here.values()):
        numbers = to_numbers(here, everywhere)
        history = await digests_since(session, chat.id, day - timedelta(days=TREND_DAYS - 1))
        chart = chart_spec(article, numbers, day, closing.chat.type, history)
        outbox.send_chart(chat.id, chart, final_caption(day), thread=closing.thread)


def schedule(close: PollClose, due: datetime, now: datetime) -> None:
    """Set a close `due` (checked: between SOONEST and LATEST from `now`), with its reminder
    when it is more than REMIND_BEYOND away."""
    close.due_at = due.astimezone(UTC)
    close.remind_at = (
        (due - REMIND_BEFORE).astimezone(UTC) if due - now > REMIND_BEYOND else None
    )


def unschedule(close: PollClose) -> bool:
    """Cancel the scheduled close; False if none was."""
    scheduled = close.due_at is not None
    close.due_at = close.remind_at = None
    return scheduled


def stored_time(moment: datetime | None) -> datetime | None:
    """A moment as stored, with its zone (SQLite keeps none: it is UTC)."""
    return None if moment is None else as_utc(moment)


async def close_note(
    session: AsyncSession, chat_id: int, article_id: str, zone: ZoneInfo
) -> str | None:
    """What /results and the digest say of the polls' close: when it is to come (scheduled),
    that it is done (the figures are final), or nothing."""
    close = await get_close(session, chat_id, article_id)
    if close is None:
        return None
    closed, due = stored_time(close.closed_at), stored_time(close.due_at)
    if closed is not None:
        return closed_note(closed.astimezone(zone).date())
    if due is not None:
        return closing_note(due.astimezone(zone))
    return None


async def round_before(
    session: AsyncSession, chat_id: int, article_id: str, zone: ZoneInfo
) -> Earlier | None:
    """In the chat's second round or later: the round before's counts, and the day it closed
    (in `zone`); None in the first round."""
    close = await get_close(session, chat_id, article_id)
    if close is None or close.round < 2:
        return None
    previous = close.round - 1
    counts = await round_results(session, article_id, chat_id, previous)
    closed = stored_time(await round_closed_at(session, chat_id, article_id, previous))
    day = closed.astimezone(zone).date() if closed is not None else None
    return Earlier(day, Tallies(counts, {}), previous)


async def told_closed(session: AsyncSession, chat_id: int, article_id: str) -> bool:
    """Whether the article is closed in the chat and a daily digest has given its final
    figures since: the daily digest then stops for that article (it has nothing new to say;
    "/digest now" still answers)."""
    close = await get_close(session, chat_id, article_id)
    closed = stored_time(close.closed_at) if close is not None else None
    return closed is not None and await daily_digest_after(session, chat_id, closed)


async def hidden_results(
    session: AsyncSession, chat_id: int, article: Article, zone: ZoneInfo
) -> list[str] | None:
    """What the chat is shown of the article's results while they are hidden until the close
    (/poll hidden): how many answered each question, and when all is revealed; None when
    they are not hidden (or no longer: the close came)."""
    close = await get_close(session, chat_id, article.id)
    if close is None or not close.hidden or close.closed_at is not None:
        return None
    here = await article_results(session, article.id, chat_id)
    due = stored_time(close.due_at)
    return hidden_blocks(
        article,
        {key: tally.voters for key, tally in here.items()},
        due.astimezone(zone) if due is not None else None,
    )
