"""What makes an opinion, and the rules it follows: who wrote it, its text, its length, how
often one may write, and forgetting someone. Plain functions: the handlers (handlers/opinions,
handlers/moderation, handlers/forget) parse, call these, and answer."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from bot.core import refusals
from bot.core.i18n import _
from bot.core.localtime import moment_text
from bot.discussion.privacy import Traces, forget_in_outbox
from bot.engine.transaction import current_unit
from storage.ballots import Answer, forget_retractions
from storage.channels import unlink_channels
from storage.models import Opinion
from storage.opinions import (
    Target,
    add_opinion,
    delete_user_opinions,
    opinion_by_message,
    recent_opinions,
    user_ballots,
)
from storage.people import names_and_texts
from storage.ratings import forget_ratings

MIN_LENGTH, MAX_LENGTH = 3, 1000
RATE_COUNT, RATE_WINDOW = 5, timedelta(minutes=10)


def author_of(message: Message) -> tuple[int, str] | None:
    """Who wrote the message: the channel or the group itself for "send as" and anonymous
    administrators (whose user account is shared by all of them), else the person."""
    if message.sender_chat is not None:
        return message.sender_chat.id, message.sender_chat.effective_name or ""
    if message.from_user is not None:
        return message.from_user.id, message.from_user.first_name
    return None


def opinion_text(message: Message) -> str:
    """The opinion in a message: its text, without the command that introduced it."""
    text = message.text or ""
    if text.startswith("/"):
        text = text.partition(" ")[2] if " " in text else ""
    return text.strip()


def length_problem(text: str) -> str | None:
    """Why the text cannot be an opinion (too short, too long), in the current language."""
    if len(text) < MIN_LENGTH:
        return _("An opinion needs at least {min} characters.").format(min=MIN_LENGTH)
    if len(text) > MAX_LENGTH:
        return _(
            "An opinion is limited to {max} characters (yours has {length}). Please shorten it."
        ).format(max=MAX_LENGTH, length=len(text))
    return None


class TooSoon(refusals.TooSoon):
    """The author wrote RATE_COUNT opinions within RATE_WINDOW: the next one waits."""

    def text(self, zone: ZoneInfo) -> str:
        return _(
            "You have shared {count} opinions in the last 10 minutes. You can post again at "
            "{time}."
        ).format(count=RATE_COUNT, time=moment_text(self.again, zone, time_only=True))


async def store_opinion(
    session: AsyncSession,
    message: Message,
    chat_id: int,
    author: tuple[int, str],
    text: str,
    target: Target,
) -> Opinion | None:
    """Store the message as an opinion on `target`; None if it already is (a redelivered
    update). Raises TooSoon past the rate limit."""
    if await opinion_by_message(session, chat_id, message.message_id) is not None:
        return None
    author_id, author_name = author
    recent = await recent_opinions(session, chat_id, author_id, message.date - RATE_WINDOW)
    if len(recent) >= RATE_COUNT:
        raise TooSoon(recent[-RATE_COUNT] + RATE_WINDOW)
    return await add_opinion(
        session,
        Opinion(
            chat_id=chat_id,
            message_id=message.message_id,
            article_id=target.article_id,
            question_key=target.question_key,
            user_id=author_id,
            author=author_name[:128],
            text=text,
            created_at=message.date,
        ),
    )


async def forget(
    session: AsyncSession, user_id: int, names: Iterable[str] = ()
) -> tuple[int, int, int]:
    """Withdraw every vote of `user_id` (the tallies follow), delete their ratings (the
    counts follow), their opinions and the ratings of them, in every chat, and their links
    to the channels they manage, then blank the copies of them (those `names`, the names and
    texts stored with their votes and opinions) in the outbox; returns how many polls,
    opinions and ratings of theirs that was."""
    unit = current_unit()
    stored_names, texts = await names_and_texts(session, user_id)
    polls = await user_ballots(session, user_id)
    now = datetime.now(UTC)
    for poll_id in polls:
        unit.answers.add(Answer(poll_id, user_id, (), (), now))
    await unit.answers.apply(session)
    await forget_retractions(session, user_id)
    ratings = await forget_ratings(session, user_id)
    opinions = await delete_user_opinions(session, user_id)
    await unlink_channels(session, user_id)  # which channels they manage: theirs to forget
    await forget_in_outbox(
        session, Traces(frozenset({*stored_names, *names}), frozenset(texts)), now
    )
    return len(polls), opinions, ratings.given
