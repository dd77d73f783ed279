"""Where each question stands: its counts in the chat and in all chats, beside what an
earlier count (the previous digest's) showed of them, typed from the tallies on.

/results reads the live tallies into `Tallies`; a digest reads its stored numbers into the
same shape where it stores them (bot.digests.text): both then say the same `Standing`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.core.content import Article
from storage.polls import QuestionTally


@dataclass(frozen=True, slots=True)
class Tallies:
    """An article's counts by question key, in one chat and in all chats."""

    here: Mapping[str, QuestionTally] = field(default_factory=dict)
    everywhere: Mapping[str, QuestionTally] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Earlier:
    """Counts as an earlier digest showed them, and its day; or (`round`) the chat's counts
    in the round before the current one, and the day it closed (no all-chats counts then)."""

    day: date | None
    tallies: Tallies
    round: int | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """A question's counts in the chat and in all chats, and what the previous digest showed
    of them (None: no previous digest, or the question was not in it)."""

    here: QuestionTally
    everywhere: QuestionTally
    here_before: QuestionTally | None = None
    everywhere_before: QuestionTally | None = None


def standings(article: Article, now: Tallies, before: Tallies | None) -> dict[str, Standing]:
    """Each of the article's questions' standing, by key, from its counts now and before."""
    return {
        question.key: Standing(
            now.here.get(question.key) or QuestionTally(),
            now.everywhere.get(question.key) or QuestionTally(),
            before.here.get(question.key) if before is not None else None,
            before.everywhere.get(question.key) if before is not None else None,
        )
        for question in article.questions
    }
