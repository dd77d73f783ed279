"""Posted polls and their counts: recording a poll that went out, applying an anonymous
poll's counts, and reading a question's results in one chat or across all chats. Query
functions: they take a session and never commit."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.closes import CURRENT_ROUND, hidden_chats
from storage.models import PollTally, PostedPoll
from storage.totals import add_to_totals, ensure_totals, read_totals
from storage.updates import get_state, handled_among, set_state

log = logging.getLogger(__name__)

async def record_posted_poll(
    session: AsyncSession,
    *,
    poll_id: str,
    chat_id: int,
    message_id: int,
    article_id: str,
    question_key: str,
    language: str,
    anonymous: bool,
    multiple: bool,
    option_ids: Sequence[str],
    posted_at: datetime,
    closed_at: datetime | None = None,
    round_number: int = 1,
    via_chat_id: int | None = None,
) -> None:
    """Record a poll that went out (`closed_at`: its chat closed the article's polls while
    it was on its way: its answers never count; `via_chat_id`: the channel it was posted
    for, in private)."""
    session.add(
        PostedPoll(
            poll_id=poll_id,
            chat_id=chat_id,
            message_id=message_id,
            article_id=article_id,
            question_key=question_key,
            language=language,
            anonymous=anonymous,
            multiple=multiple,
            option_ids=list(option_ids),
            voter_count=0,
            posted_at=posted_at,
            closed_at=closed_at,
            round=round_number,
            via_chat_id=via_chat_id,
        )
    )
    await session.flush()  # the poll row first: the tallies refer to it
    await ensure_totals(session, article_id, question_key, len(option_ids), posted_at)
    session.add_all(
        PollTally(poll_id=poll_id, option_index=index, votes=0) for index in range(len(option_ids))
    )
    await session.flush()


APPLIED_STATES = "agora.applied_poll_states"  # session.info: the update ids applied in it


def poll_state_key(poll_id: str) -> str:
    """The bot_state key of the update id of an anonymous poll's last applied state."""
    return f"poll-state:{poll_id}"


async def record_poll_counts(
    session: AsyncSession,
    *,
    poll_id: str,
    counts: dict[str, int],
    total_voters: int,
    update_id: int,
) -> bool:
    """Take an anonymous poll's counts as Telegram reports them; False if the poll is unknown.

    The poll's row is locked first (SQLite: the transaction already holds the write lock),
    and every count is read after it: states of one poll applied at the same time, in this
    process or another, take turns, and each moves the totals from the one applied before,
    never from a stale read. A state older than the one applied (a lower update id: Telegram
    numbers updates in the order it makes them; counts can go down, so only the order tells)
    arrived late and is ignored, while the applied one is still among the handled updates
    (webhooks keep them 48 hours, longer than Telegram keeps an update): after a week without
    updates Telegram numbers them from a random point, which an old mark must not hold back."""
    poll = await session.scalar(
        select(PostedPoll)
        .where(PostedPoll.poll_id == poll_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: inserts referring to it go on
        .execution_options(populate_existing=True)
    )
    if poll is None:
        return False
    if not poll.anonymous or poll.closed_at is not None:
        # Ballots are the source of truth for named polls; a closed poll's figures are final.
        return True
    if not await _newest_state(session, poll_id, update_id):
        return True
    question = (poll.article_id, poll.question_key)
    voters: Counter[tuple[str, str]] = Counter({question: total_voters - poll.voter_count})
    poll.voter_count = total_voters
    previous = dict(
        (await session.execute(
            select(PollTally.option_index, PollTally.votes).where(PollTally.poll_id == poll_id)
        )).all()
    )
    votes: Counter[tuple[str, str, int]] = Counter()
    for index, pid in enumerate(poll.option_ids):
        if pid in counts and counts[pid] != previous.get(index, 0):
            votes[(*question, index)] = counts[pid] - previous.get(index, 0)
            await session.execute(
                update(PollTally)
                .where(PollTally.poll_id == poll_id, PollTally.option_index == index)
                .values(votes=counts[pid])
            )
    await add_to_totals(session, voters, votes)
    return True


async def _newest_state(session: AsyncSession, poll_id: str, update_id: int) -> bool:
    """Whether the poll's state of `update_id` is newer than the one applied (then it is
    marked as the one applied); False for an older one, logged."""
    mark = poll_state_key(poll_id)
    applied = await get_state(session, mark)
    # States applied in this transaction are not among the handled updates yet: a batch
    # holds updates in the order they arrived, which by webhook is not Telegram's.
    applied_here: set[int] = session.info.setdefault(APPLIED_STATES, set())
    if (
        applied is not None
        and update_id <= applied
        and (applied in applied_here or await handled_among(session, [applied]))
    ):
        log.info("poll %s: update %d is older than %d, ignored", poll_id, update_id, applied)
        return False
    await set_state(session, mark, update_id)
    applied_here.add(update_id)
    return True


async def first_poll_message(session: AsyncSession, chat_id: int, article_id: str) -> int | None:
    """The message id of the first poll of the chat's current round of the article, if any."""
    return await session.scalar(
        select(PostedPoll.message_id)
        .where(PostedPoll.chat_id == chat_id, PostedPoll.article_id == article_id, CURRENT_ROUND)
        .order_by(PostedPoll.message_id)
        .limit(1)
    )


@dataclass(slots=True)
class QuestionTally:
    """Counts for one question, summed over the polls that asked it."""

    voters: int = 0
    votes: dict[int, int] = field(default_factory=dict)

    def share(self, index: int) -> float:
        """The option's share of voters (multiple answers can make shares add up past 1)."""
        return self.votes.get(index, 0) / self.voters if self.voters else 0.0

    def ranking(self) -> list[int]:
        """Options with votes, most chosen first (ties: the article's order)."""
        return sorted((i for i, v in self.votes.items() if v), key=lambda i: (-self.votes[i], i))


async def article_results(
    session: AsyncSession, article_id: str, chat_id: int | None = None
) -> dict[str, QuestionTally]:
    """Per question key: voters and votes per option of the current round, in one chat or
    (None) across all chats (each chat's current round)."""
    if chat_id is not None:
        return await _counted(session, article_id, PostedPoll.chat_id == chat_id, CURRENT_ROUND)
    results: dict[str, QuestionTally] = {}
    voters_of, votes_of = await read_totals(session, article_id)
    for key, count in voters_of.items():
        results[key] = QuestionTally(count, votes_of.get(key, {}))
    # The totals count every poll. Out of them: the rounds a later one replaced, and the
    # chats that hide their results until their close, until then (few rows: theirs only).
    hidden = await _counted(
        session,
        article_id,
        or_(~CURRENT_ROUND, PostedPoll.chat_id.in_(hidden_chats(article_id))),
    )
    for key, tally in hidden.items():
        total = results.setdefault(key, QuestionTally())
        total.voters -= tally.voters
        for index, count in tally.votes.items():
            total.votes[index] = total.votes.get(index, 0) - count
    return results


async def in_person_results(
    session: AsyncSession, article_id: str, channel_id: int
) -> dict[str, QuestionTally]:
    """Per question key: voters and votes per option of the polls answered in person, in
    private, for the channel (its identified respondents)."""
    return await _counted(session, article_id, PostedPoll.via_chat_id == channel_id, CURRENT_ROUND)


async def round_results(
    session: AsyncSession, article_id: str, chat_id: int, round_number: int
) -> dict[str, QuestionTally]:
    """Per question key: voters and votes per option of one round of the chat's polls."""
    return await _counted(
        session, article_id, PostedPoll.chat_id == chat_id, PostedPoll.round == round_number
    )


async def _counted(
    session: AsyncSession, article_id: str, *scope: ColumnElement[bool]
) -> dict[str, QuestionTally]:
    """Per question key, the voters and votes of the article's polls within `scope`."""
    results: dict[str, QuestionTally] = {}
    voters = select(PostedPoll.question_key, func.sum(PostedPoll.voter_count)).where(
        PostedPoll.article_id == article_id, *scope
    )
    votes = (
        select(PostedPoll.question_key, PollTally.option_index, func.sum(PollTally.votes))
        .join(PollTally, PollTally.poll_id == PostedPoll.poll_id)
        .where(PostedPoll.article_id == article_id, *scope)
    )
    for key, count in await session.execute(voters.group_by(PostedPoll.question_key)):
        results.setdefault(key, QuestionTally()).voters = int(count or 0)
    rows = await session.execute(votes.group_by(PostedPoll.question_key, PollTally.option_index))
    for key, index, count in rows:
        results.setdefault(key, QuestionTally()).votes[index] = int(count or 0)
    return results
