"""How an article's polls end in a chat: a close scheduled, its reminder, the close itself
(its polls marked closed, so that later answers change nothing) and its final results
message; and whether the results are hidden until then. Query functions: they take a
session and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PollClose, PostedPoll, affected, polls_of

#: The polls of their chat's current round: what every figure of today counts.
CURRENT_ROUND: ColumnElement[bool] = PostedPoll.superseded.is_(False)


async def get_close(session: AsyncSession, chat_id: int, article_id: str) -> PollClose | None:
    return await session.get(PollClose, (chat_id, article_id))


async def ensure_close(session: AsyncSession, chat_id: int, article_id: str) -> PollClose:
    """The chat's close row for the article, made (open, nothing scheduled) if missing."""
    found = await get_close(session, chat_id, article_id)
    if found is None:
        found = PollClose(chat_id=chat_id, article_id=article_id, hidden=False)
        session.add(found)
        await session.flush()
    return found


def hidden_chats(article_id: str) -> Select[int]:
    """The chats whose results of the article stay hidden until their close, not yet come:
    all-chats figures leave their votes out."""
    return select(PollClose.chat_id).where(
        PollClose.article_id == article_id, PollClose.hidden, PollClose.closed_at.is_(None)
    )


async def claim_close(
    session: AsyncSession, chat_id: int, article_id: str, now: datetime
) -> bool:
    """Mark the close done now, if nobody did (a scheduled close and a /close, or two
    instances, racing): True for the one that does, which then queues the final results."""
    await ensure_close(session, chat_id, article_id)
    done = await session.execute(
        update(PollClose)
        .where(
            PollClose.chat_id == chat_id,
            PollClose.article_id == article_id,
            PollClose.closed_at.is_(None),
        )
        .values(closed_at=now, remind_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return affected(done) == 1


@dataclass(frozen=True, slots=True)
class OpenPoll:
    poll_id: str
    chat_id: int  # a channel's polls answered in person are in private chats
    message_id: int


async def close_polls(
    session: AsyncSession, chat_id: int, article_id: str, now: datetime
) -> list[OpenPoll]:
    """Mark the article's open polls in the chat closed (their answers stop counting) and
    return them, in the order they were posted (a channel's: with those answered in person
    for it)."""
    rows = await session.execute(
        select(PostedPoll.poll_id, PostedPoll.chat_id, PostedPoll.message_id)
        .where(
            polls_of(chat_id),
            PostedPoll.article_id == article_id,
            PostedPoll.closed_at.is_(None),
        )
        .order_by(PostedPoll.message_id)
    )
    found = [OpenPoll(poll_id, chat, message_id) for poll_id, chat, message_id in rows]
    if found:
        await session.execute(
            update(PostedPoll)
            .where(PostedPoll.poll_id.in_([poll.poll_id for poll in found]))
            .values(closed_at=now)
        )
    return found


async def open_round(
    session: AsyncSession, chat_id: int, article_id: str, round_number: int, *, hidden: bool
) -> bool:
    """Open round `round_number` of the article's polls in the chat, once the round before
    it is closed: the close starts afresh (nothing scheduled, `hidden` as asked) and the
    earlier rounds' polls are superseded. False if that round is not the next one (another
    press opened it, or the polls are not closed): nothing changes."""
    done = await session.execute(
        update(PollClose)
        .where(
            PollClose.chat_id == chat_id,
            PollClose.article_id == article_id,
            PollClose.round == round_number - 1,
            PollClose.closed_at.is_not(None),
        )
        .values(
            round=round_number, hidden=hidden, due_at=None, remind_at=None, closed_at=None,
            results_message_id=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    if affected(done) != 1:
        return False
    await session.execute(
        update(PostedPoll)
        .where(
            PostedPoll.chat_id == chat_id,
            PostedPoll.article_id == article_id,
            PostedPoll.round < round_number,
        )
        .values(superseded=True)
    )
    return True


async def round_closed_at(
    session: AsyncSession, chat_id: int, article_id: str, round_number: int
) -> datetime | None:
    """When a round of the chat's polls closed (its polls' latest close), None if it did not."""
    found: datetime | None = await session.scalar(
        select(func.max(PostedPoll.closed_at)).where(
            PostedPoll.chat_id == chat_id,
            PostedPoll.article_id == article_id,
            PostedPoll.round == round_number,
        )
    )
    return found


async def record_results_message(
    session: AsyncSession, chat_id: int, article_id: str, message_id: int
) -> None:
    """The final results are out: a second /close points to them."""
    await session.execute(
        update(PollClose)
        .where(PollClose.chat_id == chat_id, PollClose.article_id == article_id)
        .values(results_message_id=message_id)
    )


async def due_closes(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """(chat, article) of the scheduled closes due by `now` and not done yet."""
    rows = await session.execute(
        select(PollClose.chat_id, PollClose.article_id)
        .where(PollClose.closed_at.is_(None), PollClose.due_at <= now)
        .order_by(PollClose.due_at)
    )
    return [(chat_id, article_id) for chat_id, article_id in rows]


async def due_reminders(session: AsyncSession, now: datetime) -> list[tuple[int, str]]:
    """(chat, article) of the reminders due by `now` whose close is still to come."""
    rows = await session.execute(
        select(PollClose.chat_id, PollClose.article_id).where(
            PollClose.closed_at.is_(None), PollClose.remind_at <= now, PollClose.due_at > now
        )
    )
    return [(chat_id, article_id) for chat_id, article_id in rows]


async def claim_reminder(
    session: AsyncSession, chat_id: int, article_id: str, now: datetime
) -> bool:
    """Take the reminder for sending (once: it is cleared as it is taken)."""
    done = await session.execute(
        update(PollClose)
        .where(
            PollClose.chat_id == chat_id,
            PollClose.article_id == article_id,
            PollClose.closed_at.is_(None),
            PollClose.remind_at <= now,
        )
        .values(remind_at=None)
        .execution_options(synchronize_session="fetch")
    )
    return affected(done) == 1


async def next_due(session: AsyncSession) -> list[datetime]:
    """When the scheduled closes and reminders still to come are due (to arm their jobs)."""
    rows = await session.execute(
        select(PollClose.due_at, PollClose.remind_at).where(
            PollClose.closed_at.is_(None), PollClose.due_at.is_not(None)
        )
    )
    return sorted(moment for pair in rows for moment in pair if moment is not None)
