"""What cross-tabulations and opinion groups read: the named answers (ballots), aggregated by
the database wherever it can; query functions that never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.closes import CURRENT_ROUND, hidden_chats
from storage.models import Ballot, Opinion, PostedPoll, Rating, options_of, polls_of

PACKED = 62  # bits of a set of answers in one column (the databases' integers: 64, signed)


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """How one question was asked in one chat: its polls, and whether any was anonymous."""

    poll_ids: list[str]
    anonymous: bool


async def asked_in_chat(
    session: AsyncSession, chat_id: int, article_id: str, question_key: str
) -> AskedQuestion:
    rows = await session.execute(
        select(PostedPoll.poll_id, PostedPoll.anonymous).where(
            polls_of(chat_id),
            PostedPoll.article_id == article_id,
            PostedPoll.question_key == question_key,
            CURRENT_ROUND,
        )
    )
    polls = list(rows)
    named = [poll for poll, anonymous in polls if not anonymous]
    # A channel's own polls are anonymous, its identified respondents' are not: only the
    # named ones can be crossed, and the question counts as anonymous if none is.
    return AskedQuestion(named or [poll for poll, _ in polls], bool(polls) and not named)


async def answer_pairs(
    session: AsyncSession, polls_a: list[str], polls_b: list[str]
) -> list[tuple[list[int], list[int], int]]:
    """How many people gave each pair of answers (A, B) among those who answered both.

    The database joins and counts: one row per distinct pair of answers comes back, so the
    memory used does not depend on the number of voters. Both sides are read from the
    (poll, user, option bits) index alone, and an answer is compared as its bits.
    """
    if not polls_a or not polls_b:
        return []
    a, b = aliased(Ballot), aliased(Ballot)
    rows = await session.execute(
        select(a.option_bits, b.option_bits, func.count())
        .select_from(a)
        .join(b, b.user_id == a.user_id)
        .where(a.poll_id.in_(polls_a), b.poll_id.in_(polls_b))
        .group_by(a.option_bits, b.option_bits)
    )
    return [(options_of(x), options_of(y), int(count)) for x, y, count in rows]


async def rated_statements(
    session: AsyncSession, article_id: str, chat_id: int | None, limit: int, raters: int
) -> list[tuple[int, str]]:
    """(id, text) of the article's opinions, in the chat or (None) in all chats, that opinion
    groups weigh like questions: the `limit` most rated, with `raters` raters at least."""
    rated = Opinion.agreed + Opinion.disagreed + Opinion.passed
    scope = [Opinion.article_id == article_id, rated >= raters]
    if chat_id is not None:
        scope.append(Opinion.chat_id == chat_id)
    rows = await session.execute(
        select(Opinion.id, Opinion.text).where(*scope).order_by(rated.desc(), Opinion.id)
        .limit(limit)
    )
    return [(int(opinion), text) for opinion, text in rows]


async def answer_patterns(
    session: AsyncSession,
    article_id: str,
    chat_id: int | None,
    questions: Sequence[tuple[str, int]],
    statements: Sequence[int] = (),
) -> list[tuple[int, int]]:
    """Each distinct set of answers that voters gave to the article's `questions` (key and
    number of options, in order), in one chat or (None) in all chats, with how many gave it.

    A set of answers is an integer whose bit offsets[q] + o is set when option o of question q
    was chosen, offsets[q] being the number of options of the questions before q (an
    unanswered question has no bit). Options a question does not have are left out, and an
    answer left with none is no answer. A voter who answered a question more than once (posted
    twice, or in several chats) counts with their latest answer.

    After the questions come the `statements` (opinion ids), each like a question of three
    options: agree, disagree, pass, from the person's rating of it.

    The database adds up each voter's bits and counts the voters of each sum: one row per
    distinct set of answers comes back, not one per answer.
    """
    found = await _voter_sets(session, article_id, chat_id, questions, statements)
    if found is None:
        return []
    sets, starts = found
    columns = [column for column in sets.c if column.name != "user_id"]
    rows = await session.execute(select(*columns, func.count()).group_by(*columns))
    return [(_joined(row[:-1], starts), row[-1]) for row in rows]


async def voter_patterns(
    session: AsyncSession,
    article_id: str,
    chat_id: int,
    questions: Sequence[tuple[str, int]],
    statements: Sequence[int],
    users: Select[Any] | CompoundSelect[Any],
) -> dict[int, int]:
    """The set of answers (as `answer_patterns` makes them) of each voter of the chat among
    `users` (their ids), by user id."""
    found = await _voter_sets(session, article_id, chat_id, questions, statements, users)
    if found is None:
        return {}
    sets, starts = found
    columns = [column for column in sets.c if column.name != "user_id"]
    rows = await session.execute(select(sets.c.user_id, *columns))
    return {int(row[0]): _joined(row[1:], starts) for row in rows}


def _joined(parts: Sequence[int], starts: Sequence[int]) -> int:
    return sum(int(part) << start for part, start in zip(parts, starts, strict=True))


async def _voter_sets(
    session: AsyncSession,
    article_id: str,
    chat_id: int | None,
    questions: Sequence[tuple[str, int]],
    statements: Sequence[int] = (),
    users: Select[Any] | CompoundSelect[Any] | None = None,
) -> tuple[Subquery, list[int]] | None:
    """Each voter's set of answers as a subquery (user_id, then the packed columns), and
    where each column starts; None when no poll asked the questions."""
    keys = [key for key, _ in questions]
    scope = [PostedPoll.article_id == article_id, PostedPoll.question_key.in_(keys), CURRENT_ROUND]
    if chat_id is not None:
        scope.append(polls_of(chat_id))
    else:  # until their close, the chats that hide their results keep them out of it
        scope.append(PostedPoll.chat_id.not_in(hidden_chats(article_id)))
    polls = await session.execute(
        select(func.count()).where(*scope).group_by(PostedPoll.question_key)
    )
    per_question = polls.scalars().all()
    if not per_question:
        return None
    valid, factors, starts = _packing([*questions, *((_key(o), 3) for o in statements)])
    bits = Ballot.option_bits.bitwise_and(_by_question(valid))
    answers = (
        select(
            Ballot.user_id,
            *((bits * _by_question(factor)).label(f"bits{c}") for c, factor in enumerate(factors)),
        )
        .join(PostedPoll, PostedPoll.poll_id == Ballot.poll_id)
        .where(*scope, bits != 0)
    )
    if users is not None:
        answers = answers.where(Ballot.user_id.in_(users))
    repeated = max(per_question) > 1
    if repeated:  # a question asked more than once: each voter's latest answer to it
        answers = answers.add_columns(
            func.row_number()
            .over(
                partition_by=(Ballot.user_id, PostedPoll.question_key),
                order_by=(Ballot.answered_at.desc(), Ballot.poll_id.desc()),
            )
            .label("rank")
        )
    if statements:
        rated = _rating_rows(statements, factors, users, repeated)
        return _sets_per_voter(answers.union_all(rated).subquery(), len(factors), repeated), starts
    return _sets_per_voter(answers.subquery(), len(factors), repeated), starts


def _rating_rows(
    statements: Sequence[int],
    factors: Sequence[dict[str, int]],
    users: Select[Any] | CompoundSelect[Any] | None,
    repeated: bool,
) -> Select[Any]:
    """The ratings of `statements` as rows shaped like the answers' (user_id, then the
    packed columns, then the rank when there is one): each rating's bit, agree, disagree or
    pass, at its opinion's place."""
    choice = case({1: 1, -1: 2}, value=Rating.value, else_=4)
    ratings = select(
        Rating.user_id,
        *((choice * _by_opinion(factor)).label(f"bits{c}") for c, factor in enumerate(factors)),
    ).where(Rating.opinion_id.in_(statements))
    if users is not None:
        ratings = ratings.where(Rating.user_id.in_(users))
    if repeated:
        ratings = ratings.add_columns(literal(1, BigInteger).label("rank"))
    return ratings


def _key(opinion_id: int) -> str:
    """The packing's key of a statement (poll question keys are the article's)."""
    return f"#{opinion_id}"


def _by_opinion(values: dict[str, int]) -> ColumnElement[int]:
    """`values` by the rating's opinion (0 for an opinion not among them)."""
    found = {int(key[1:]): value for key, value in values.items() if key.startswith("#")}
    if not found:
        return literal(0, BigInteger)
    return case(
        {opinion: literal(value, BigInteger) for opinion, value in found.items()},
        value=Rating.opinion_id,
        else_=literal(0, BigInteger),
    )


def _packing(
    questions: Sequence[tuple[str, int]],
) -> tuple[dict[str, int], list[dict[str, int]], list[int]]:
    """Whole questions packed into columns of at most PACKED bits: column c holds the bits
    from starts[c] on, a question's bits multiplied by factors[c][its key] to get there;
    valid[key] masks the bits of the options the question has."""
    valid: dict[str, int] = {}
    factors: list[dict[str, int]] = [{}]
    starts = [0]
    offset = 0
    for key, options in questions:
        if offset + options - starts[-1] > PACKED:
            factors.append({})
            starts.append(offset)
        valid[key] = (1 << options) - 1
        factors[-1][key] = 1 << (offset - starts[-1])
        offset += options
    return valid, factors, starts


def _sets_per_voter(rows: Subquery, columns: int, repeated: bool) -> Subquery:
    """Each voter's set of answers, its `columns` summed over their answers (only their
    latest to each question when one was `repeated`)."""
    per_voter = select(
        rows.c.user_id,
        *(
            cast(func.sum(rows.c[f"bits{c}"]), BigInteger).label(f"set{c}")
            for c in range(columns)
        ),
    ).group_by(rows.c.user_id)
    if repeated:
        per_voter = per_voter.where(rows.c.rank == 1)
    return per_voter.subquery()


def _by_question(values: dict[str, int]) -> ColumnElement[int]:
    """`values` by the poll's question key (0 for another question)."""
    return case(
        {key: literal(value, BigInteger) for key, value in values.items()},
        value=PostedPoll.question_key,
        else_=literal(0, BigInteger),
    )
