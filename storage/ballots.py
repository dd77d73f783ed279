"""Poll answers applied in bulk: a batch of answers becomes a handful of SQL statements.

A vote storm is the bot's hot path. Answers are collected during one unit of work and applied
together (before anything reads the results, and before the commit): the ballots they touch
are read in one query, the batch is replayed in order in memory (a change replaces the
previous answer, an empty answer retracts it), and only the net changes are written.

Telegram's order decides, not the order answers are handled in (webhooks arrive in parallel,
several instances share them, a failed batch is tried again later): a ballot keeps the update
that gave it and a retraction leaves its update behind (`Retraction`), and an answer from an
older update than those changes nothing. On PostgreSQL the ballots and retractions read are
locked until the commit, so two transactions on one voter's answer take turns; a first
answer inserted by both at once fails one of them, which is tried again and then sees the
other's.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import execute_many
from storage.models import Ballot, PollTally, PostedPoll, Retraction, option_bits, table
from storage.totals import QuestionKey, add_to_totals

log = logging.getLogger(__name__)

_ballots = table(Ballot)
_tallies = table(PollTally)
_polls = table(PostedPoll)
_retractions = table(Retraction)

_ADD_TO_TALLY = (
    _tallies.update()
    .where(
        _tallies.c.poll_id == bindparam("b_poll"),
        _tallies.c.option_index == bindparam("b_index"),
    )
    .values(votes=_tallies.c.votes + bindparam("b_delta"))
)
_ADD_TO_VOTERS = (
    _polls.update()
    .where(_polls.c.poll_id == bindparam("b_poll"))
    .values(voter_count=_polls.c.voter_count + bindparam("b_delta"))
)
_INSERT_BALLOT = _ballots.insert()
_DELETE_BALLOT = _ballots.delete().where(
    _ballots.c.poll_id == bindparam("b_poll"), _ballots.c.user_id == bindparam("b_user")
)
_SET_UPDATE = (
    _ballots.update()
    .where(_ballots.c.poll_id == bindparam("b_poll"), _ballots.c.user_id == bindparam("b_user"))
    .values(update_id=bindparam("b_update"))
)
_INSERT_RETRACTION = _retractions.insert()
_DELETE_RETRACTION = _retractions.delete().where(
    _retractions.c.poll_id == bindparam("b_poll"),
    _retractions.c.user_id == bindparam("b_user"),
)


@dataclass(frozen=True, slots=True)
class Answer:
    poll_id: str
    user_id: int
    persistent_ids: tuple[str, ...]
    positions: tuple[int, ...]
    answered_at: datetime
    voter_name: str | None = None
    # Telegram's update, which orders a voter's answers; None for a withdrawal of the bot's
    # own (/forgetme), applied whatever came before, and leaving no trace.
    update_id: int | None = None


def chosen_options(
    option_ids: Sequence[str], persistent_ids: Sequence[str], positions: Sequence[int]
) -> list[int]:
    """Our option numbers for an answer: by persistent id when Telegram gives them (positions
    shift when options are added or removed), else by position."""
    if persistent_ids:
        known = {pid: index for index, pid in enumerate(option_ids)}
        return sorted({known[pid] for pid in persistent_ids if pid in known})
    return sorted({p for p in positions if 0 <= p < len(option_ids)})


class AnswerBatch:
    """Answers waiting to be applied in the current unit of work."""

    def __init__(self) -> None:
        self._answers: list[Answer] = []

    def add(self, answer: Answer) -> None:
        self._answers.append(answer)

    def __len__(self) -> int:
        return len(self._answers)

    async def apply(self, session: AsyncSession) -> None:
        """Write the net effect of the waiting answers (does not commit)."""
        answers, self._answers = self._answers, []
        if answers:
            await _apply(session, answers)


Pair = tuple[str, int]  # (poll, voter)


async def _apply(session: AsyncSession, answers: list[Answer]) -> None:
    options_of, question_of = await _polls_of(session, {a.poll_id for a in answers})
    answers = [a for a in answers if a.poll_id in options_of]
    if not answers:
        return
    before, applied, retracted = await _current(session, set(options_of), answers)
    after: dict[Pair, tuple[list[int], Answer]] = {}
    for a in sorted(answers, key=_order):
        pair = (a.poll_id, a.user_id)
        if a.update_id is not None and a.update_id <= applied.get(pair, -1):
            continue  # older than the answer applied: Telegram has a newer one
        after[pair] = (chosen_options(options_of[a.poll_id], a.persistent_ids, a.positions), a)
        if a.update_id is not None:
            applied[pair] = a.update_id
    tally, voters, inserts, replaced = _changes(before, after)
    # Delete then insert: portable to every database, unlike dialect-specific upserts.
    await execute_many(session, _DELETE_BALLOT, replaced)
    await execute_many(session, _INSERT_BALLOT, inserts)
    await _mark(session, before, after, retracted)
    # Rows are changed in one order (table by table, keys sorted), so that concurrent
    # transactions (webhooks, several instances) wait for each other, never deadlock.
    changes = [
        {"b_poll": poll, "b_index": index, "b_delta": delta}
        for (poll, index), delta in sorted(tally.items())
        if delta
    ]
    await execute_many(session, _ADD_TO_TALLY, changes)
    counts = [
        {"b_poll": poll, "b_delta": delta} for poll, delta in sorted(voters.items()) if delta
    ]
    await execute_many(session, _ADD_TO_VOTERS, counts)
    question_voters: Counter[QuestionKey] = Counter()
    for poll, delta in voters.items():
        question_voters[question_of[poll]] += delta
    option_votes: Counter[tuple[str, str, int]] = Counter()
    for (poll, index), delta in tally.items():
        option_votes[(*question_of[poll], index)] += delta
    await add_to_totals(session, question_voters, option_votes)


def _order(answer: Answer) -> tuple[bool, int]:
    """Telegram's order; the bot's own withdrawals last, in the order they came."""
    return answer.update_id is None, answer.update_id or 0


async def _current(
    session: AsyncSession, polls: set[str], answers: list[Answer]
) -> tuple[dict[Pair, list[int]], dict[Pair, int], set[Pair]]:
    """The ballots the answers touch, the update last applied to each (voter, poll) pair, and
    the pairs whose last answer was a retraction; locked on PostgreSQL until the commit."""
    users = {a.user_id for a in answers}
    locking = session.get_bind().dialect.name == "postgresql"
    ballots = select(
        _ballots.c.poll_id, _ballots.c.user_id, _ballots.c.options, _ballots.c.update_id
    ).where(_ballots.c.poll_id.in_(polls), _ballots.c.user_id.in_(users))
    retractions = select(
        _retractions.c.poll_id, _retractions.c.user_id, _retractions.c.update_id
    ).where(_retractions.c.poll_id.in_(polls), _retractions.c.user_id.in_(users))
    if locking:  # in one order, as the writes below: transactions wait, never deadlock
        ballots = ballots.order_by(_ballots.c.poll_id, _ballots.c.user_id).with_for_update()
        retractions = retractions.order_by(
            _retractions.c.poll_id, _retractions.c.user_id
        ).with_for_update()
    before: dict[Pair, list[int]] = {}
    applied: dict[Pair, int] = {}
    for poll, user, options, update_id in await session.execute(ballots):
        before[(poll, user)] = list(options)
        applied[(poll, user)] = update_id if update_id is not None else -1
    retracted: set[Pair] = set()
    for poll, user, update_id in await session.execute(retractions):
        retracted.add((poll, user))
        applied[(poll, user)] = max(applied.get((poll, user), -1), update_id)
    return before, applied, retracted


async def _mark(
    session: AsyncSession,
    before: dict[Pair, list[int]],
    after: dict[Pair, tuple[list[int], Answer]],
    retracted: set[Pair],
) -> None:
    """Keep the update each applied answer came from: on its ballot, or for a retraction on
    a row of its own (the bot's own withdrawals keep nothing)."""
    touched = [
        {"b_poll": poll, "b_user": user, "b_update": a.update_id}
        for (poll, user), (chosen, a) in after.items()
        if a.update_id is not None and chosen and before.get((poll, user)) == chosen
    ]
    await execute_many(session, _SET_UPDATE, touched)  # the same answer, from a newer update
    gone = [{"b_poll": poll, "b_user": user} for poll, user in sorted(after.keys() & retracted)]
    await execute_many(session, _DELETE_RETRACTION, gone)
    await execute_many(
        session,
        _INSERT_RETRACTION,
        [
            {"poll_id": poll, "user_id": user, "update_id": a.update_id}
            for (poll, user), (chosen, a) in after.items()
            if not chosen and a.update_id is not None
        ],
    )


async def forget_retractions(session: AsyncSession, user_id: int) -> None:
    """A person forgotten leaves no retraction behind."""
    await session.execute(_retractions.delete().where(_retractions.c.user_id == user_id))


async def _polls_of(
    session: AsyncSession, poll_ids: set[str]
) -> tuple[dict[str, list[str]], dict[str, tuple[str, str]]]:
    """The recorded polls among these that are open: their options' persistent ids, and their
    question (answers to a closed one are ignored)."""
    rows = await session.execute(
        select(
            _polls.c.poll_id,
            _polls.c.option_ids,
            _polls.c.article_id,
            _polls.c.question_key,
            _polls.c.closed_at,
        ).where(_polls.c.poll_id.in_(poll_ids))
    )
    options_of: dict[str, list[str]] = {}
    question_of: dict[str, tuple[str, str]] = {}
    closed: set[str] = set()
    for poll, ids, article, question, closed_at in rows:
        if closed_at is not None:  # closed (/close): its final figures stay as they are
            closed.add(poll)
            continue
        options_of[poll] = list(ids)
        question_of[poll] = (article, question)
    for unknown in poll_ids - options_of.keys() - closed:
        log.info("ignoring answers to unknown poll %s", unknown)
    for poll in closed:
        log.info("ignoring answers to closed poll %s", poll)
    return options_of, question_of


def _changes(
    before: dict[tuple[str, int], list[int]],
    after: dict[tuple[str, int], tuple[list[int], Answer]],
) -> tuple[Counter[tuple[str, int]], Counter[str], list[dict[str, Any]], list[dict[str, Any]]]:
    """What the answers change: votes per (poll, option), voters per poll, the ballots to
    insert, and those they replace."""
    tally: Counter[tuple[str, int]] = Counter()
    voters: Counter[str] = Counter()
    inserts: list[dict[str, Any]] = []
    replaced: list[dict[str, Any]] = []
    for (poll, user), (chosen, answer) in after.items():
        previous = before.get((poll, user))
        if previous == chosen or (previous is None and not chosen):
            continue
        old = previous or []
        for index in set(chosen) - set(old):
            tally[(poll, index)] += 1
        for index in set(old) - set(chosen):
            tally[(poll, index)] -= 1
        voters[poll] += bool(chosen) - bool(old)
        if previous is not None:
            replaced.append({"b_poll": poll, "b_user": user})
        if chosen:
            inserts.append(
                {
                    "poll_id": poll,
                    "user_id": user,
                    "options": chosen,
                    "option_bits": option_bits(chosen),
                    "answered_at": answer.answered_at,
                    "voter_name": answer.voter_name,
                    "update_id": answer.update_id,
                }
            )
    return tally, voters, inserts, replaced
