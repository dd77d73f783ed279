"""Poll answers applied in bulk: a batch of answers becomes a handful of SQL statements.

A vote storm is the bot's hot path. Answers are collected during one unit of work and applied
together (before anything reads the results, and before the commit): the ballots they touch
are read in one query, the batch is replayed in order in memory (a change replaces the
previous answer, an empty answer retracts it), and only the net changes are written.
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
from storage.models import Ballot, PollTally, PostedPoll, option_bits, table
from storage.totals import QuestionKey, add_to_totals

log = logging.getLogger(__name__)

_ballots = table(Ballot)
_tallies = table(PollTally)
_polls = table(PostedPoll)

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


@dataclass(frozen=True, slots=True)
class Answer:
    poll_id: str
    user_id: int
    persistent_ids: tuple[str, ...]
    positions: tuple[int, ...]
    answered_at: datetime
    voter_name: str | None = None


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


async def _apply(session: AsyncSession, answers: list[Answer]) -> None:
    options_of, question_of = await _polls_of(session, {a.poll_id for a in answers})
    answers = [a for a in answers if a.poll_id in options_of]
    if not answers:
        return
    users = {a.user_id for a in answers}
    ballots = await session.execute(
        select(_ballots.c.poll_id, _ballots.c.user_id, _ballots.c.options).where(
            _ballots.c.poll_id.in_(options_of), _ballots.c.user_id.in_(users)
        )
    )
    before = {(poll, user): list(options) for poll, user, options in ballots}
    after: dict[tuple[str, int], tuple[list[int], Answer]] = {}
    for a in answers:
        after[(a.poll_id, a.user_id)] = (
            chosen_options(options_of[a.poll_id], a.persistent_ids, a.positions),
            a,
        )
    tally, voters, inserts, replaced = _changes(before, after)
    # Delete then insert: portable to every database, unlike dialect-specific upserts.
    await execute_many(session, _DELETE_BALLOT, replaced)
    await execute_many(session, _INSERT_BALLOT, inserts)
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
                }
            )
    return tally, voters, inserts, replaced
