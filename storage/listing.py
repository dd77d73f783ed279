"""The opinion listing's reads: the chat's opinions on an article in listing order (the whole
article first, then question by question, newest first within each), read by key from any
opinion on, forwards or backwards. Query functions that never commit."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Opinion


class ListedOpinion(NamedTuple):
    """What a listing or an export shows of an opinion."""

    id: int
    question_key: str | None
    author: str
    created_at: datetime
    text: str
    agreed: int = 0
    disagreed: int = 0
    passed: int = 0

    @property
    def raters(self) -> int:
        return self.agreed + self.disagreed + self.passed


LISTED = (
    Opinion.id, Opinion.question_key, Opinion.author, Opinion.created_at, Opinion.text,
    Opinion.agreed, Opinion.disagreed, Opinion.passed,
)


def _group_of(question_keys: Sequence[str], rank: int) -> ColumnElement[bool]:
    """The opinions of the listing's group `rank`: 0 is the whole article (and questions the
    article no longer has), then each question in the article's order."""
    if rank == 0:
        return or_(Opinion.question_key.is_(None), Opinion.question_key.not_in(question_keys))
    return Opinion.question_key == question_keys[rank - 1]


def listing_rank(question_keys: Sequence[str], question_key: str | None) -> int:
    """Where an opinion on `question_key` goes in the listing (see `_group_of`)."""
    if question_key is None or question_key not in question_keys:
        return 0
    return list(question_keys).index(question_key) + 1


class ListingKey(NamedTuple):
    """Where an opinion stands in the listing: its group, then newest first."""

    rank: int
    created_at: datetime
    id: int


async def listing_key(
    session: AsyncSession, chat_id: int, article_id: str, question_keys: Sequence[str],
    opinion_id: int,
) -> ListingKey | None:
    """The place of one of the chat's opinions on the article (None if there is none such)."""
    found = (
        await session.execute(
            select(Opinion.question_key, Opinion.created_at).where(
                Opinion.id == opinion_id,
                Opinion.chat_id == chat_id,
                Opinion.article_id == article_id,
            )
        )
    ).first()
    if found is None:
        return None
    return ListingKey(listing_rank(question_keys, found[0]), found[1], opinion_id)


def _beyond(bound: tuple[datetime, int], backwards: bool) -> ColumnElement[bool]:
    """Opinions past `bound` (a moment and an id) in listing order: older, or as old with a
    smaller id; `backwards`, newer: later, or as late with a greater id."""
    moment, id_ = bound
    if backwards:
        return or_(
            Opinion.created_at > moment, and_(Opinion.created_at == moment, Opinion.id > id_)
        )
    return or_(Opinion.created_at < moment, and_(Opinion.created_at == moment, Opinion.id < id_))


async def listed_opinions(
    session: AsyncSession,
    chat_id: int,
    article_id: str,
    question_keys: Sequence[str],
    after: ListingKey | None = None,
    *,
    backwards: bool = False,
    batch: int = 40,
) -> AsyncGenerator[ListedOpinion, None]:
    """The chat's opinions on the article in listing order (grouped by question, the whole
    article first; newest first within a question), from just after `after` (from the
    start when None); with `backwards`, in the reverse order from just before it.

    Read by key, `batch` rows at a time, each batch one query that an index on the chat's
    opinions answers: what the caller reads costs the same whatever the number of opinions
    before it. Stop early with `contextlib.aclosing`, or just stop: nothing stays open."""
    groups = range(len(question_keys) + 1)
    if after is None:
        ranks = list(reversed(groups)) if backwards else list(groups)
        bound: tuple[datetime, int] | None = None
    else:
        ranks = list(range(after.rank, -1, -1)) if backwards else list(groups[after.rank :])
        bound = (after.created_at, after.id)
    for rank in ranks:
        while True:
            where = [
                Opinion.chat_id == chat_id,
                Opinion.article_id == article_id,
                _group_of(question_keys, rank),
            ]
            if bound is not None:
                where.append(_beyond(bound, backwards))
            order = (
                (Opinion.created_at, Opinion.id)
                if backwards
                else (Opinion.created_at.desc(), Opinion.id.desc())
            )
            rows = (
                await session.execute(select(*LISTED).where(*where).order_by(*order).limit(batch))
            ).all()
            for row in rows:
                yield ListedOpinion(*row)
            if len(rows) < batch:
                bound = None  # the next group is read from its start
                break
            bound = (rows[-1][3], rows[-1][0])
