"""What the database holds that names one person or quotes them: the names they went by and
the texts they wrote, looked up so that every copy can be found before they are forgotten."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ballot, Opinion


async def names_and_texts(session: AsyncSession, user_id: int) -> tuple[set[str], set[str]]:
    """The names stored with the person's opinions and votes, and their opinions' texts."""
    names: set[str] = set()
    texts: set[str] = set()
    for author, text in await session.execute(
        select(Opinion.author, Opinion.text).where(Opinion.user_id == user_id)
    ):
        names.add(author)
        texts.add(text)
    names.update(
        name
        for name in await session.scalars(
            select(Ballot.voter_name).where(Ballot.user_id == user_id).distinct()
        )
        if name
    )
    return names, texts
