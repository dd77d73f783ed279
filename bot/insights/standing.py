"""Where a person stands in a chat (/me): on which questions they side with the chat's
majority, the opinion group they fall in, and the opinion that the people outside their group
agree with most. Only about the person and counts of others: nobody else is named."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from babel.lists import format_list

from bot.core.commands import ME
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import (
    _,
    current_language,
    current_locale,
    format_number,
    format_share,
    ngettext,
)
from storage.polls import QuestionTally

MIN_RATERS = 3  # an opinion's agreement is shown from this many raters on, as in /opinions
_COLUMN = {1: 0, -1: 1, 0: 2}  # a rating's value -> agreed, disagreed, passed


@dataclass(frozen=True, slots=True)
class Side:
    """The person's answer to one question beside the chat's most chosen option."""

    question: int  # its index in the article
    mine: list[int]
    majority: int
    share: float  # the majority option's share of the chat's voters

    @property
    def with_majority(self) -> bool:
        return self.majority in self.mine


@dataclass(frozen=True, slots=True)
class Favourite:
    """The opinion most agreed with by the people counted, and their ratings of it."""

    opinion_id: int
    agreed: int
    disagreed: int
    passed: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class Membership:
    number: int  # from 1, largest group first
    groups: int
    size: int
    weak: bool  # the groups overlap a lot: tendencies rather than camps


@dataclass(slots=True)
class Place:
    """What /me says of one chat."""

    title: str | None  # None: the person's private chat with the bot
    article: Article
    hidden: bool = False  # results hidden until the close: nothing is compared
    sides: list[Side] = field(default_factory=list)
    membership: Membership | None = None
    favourite: Favourite | None = None


def sides(
    article: Article, mine: Mapping[str, list[int]], results: Mapping[str, QuestionTally]
) -> list[Side]:
    """The person's answer to each question they answered, beside the chat's leading option
    (none where two options share the lead)."""
    found = []
    for index, question in enumerate(article.questions):
        picked, tally = mine.get(question.key), results.get(question.key)
        ranking = tally.ranking() if tally is not None else []
        if not picked or tally is None or not ranking:
            continue
        leader = ranking[0]
        if len(ranking) > 1 and tally.votes[ranking[1]] == tally.votes[leader]:
            continue
        found.append(Side(index, picked, leader, tally.share(leader)))
    return found


def favourite(
    ratings: Iterable[tuple[int, int, int]], counted: Callable[[int], bool]
) -> Favourite | None:
    """Of the (opinion, rater, value) ratings by raters `counted`, the opinion with the
    largest share of agreement among at least MIN_RATERS of them (more raters first among
    equals, then the oldest); None if no opinion was agreed with by any of them."""
    tallies: dict[int, list[int]] = {}
    for opinion, rater, value in ratings:
        if counted(rater):
            tallies.setdefault(opinion, [0, 0, 0])[_COLUMN[value]] += 1
    best: tuple[tuple[float, int, int], Favourite] | None = None
    for opinion, (agreed, disagreed, passed) in tallies.items():
        raters = agreed + disagreed + passed
        if raters < MIN_RATERS or not agreed:
            continue
        key = (agreed / raters, raters, -opinion)
        if best is None or key > best[0]:
            best = (key, Favourite(opinion, agreed, disagreed, passed))
    return best[1] if best is not None else None


def _numbers(indexes: list[int]) -> str:
    return format_list([str(i + 1) for i in indexes], locale=current_locale())


def _option(article: Article, question: int, option: int) -> str:
    text = article.questions[question].options[current_language()][option]
    return _("“{text}”").format(text=escape(text))


def place_block(place: Place) -> str:
    """One chat: its name and article, then the person's place in it."""
    language, article = current_language(), place.article
    where = escape(place.title) if place.title is not None else _("Our private chat")
    lines = [f"<b>{where}</b> — {escape(article.title[language])}"]
    if place.hidden:
        lines.append(_("Its results stay hidden until the polls close: nothing to compare yet."))
        return "\n".join(lines)
    if place.membership is not None:
        member = place.membership
        lines.append(
            _("Opinion groups: you are in group {number} of {groups} ({people}).").format(
                number=member.number,
                groups=member.groups,
                people=ngettext("{count} person", "{count} people", member.size).format(
                    count=format_number(member.size)
                ),
            )
            + (" " + _("They overlap a lot: tendencies rather than camps.") if member.weak else "")
        )
    along = [side.question for side in place.sides if side.with_majority]
    if along:
        lines.append(
            ngettext(
                "With the leading answer on question {numbers}.",
                "With the leading answer on questions {numbers}.",
                len(along),
            ).format(numbers=_numbers(along))
        )
    for side in place.sides:
        if not side.with_majority:
            lines.append(
                _("Question {number}: you answered {mine}; the leading answer is {theirs} "
                  "({share}).")
                .format(
                    number=side.question + 1,
                    mine=format_list(
                        [_option(article, side.question, o) for o in side.mine],
                        locale=current_locale(),
                    ),
                    theirs=_option(article, side.question, side.majority),
                    share=format_share(side.share),
                )
            )
    if place.favourite is not None:
        liked = place.favourite
        heading = (
            _("Outside your group, the opinion most agreed with")
            if place.membership is not None
            else _("The opinion most agreed with there")
        )
        counts = _("👍 {agreed} · 👎 {disagreed} · {passed} passed").format(
            agreed=liked.agreed, disagreed=liked.disagreed, passed=liked.passed
        )
        lines.append(
            _("{heading}: “{text}” ({counts})").format(
                heading=heading, text=escape(liked.text), counts=counts
            )
        )
    return "\n".join(lines)


def standing_blocks(places: list[Place]) -> list[str]:
    """/me's answer: a heading, then each chat."""
    if not places:
        return [
            _(
                "You have not answered any poll yet. Once you have, /{me} shows you where you "
                "stand, chat by chat."
            ).format(me=ME.name(current_language()))
        ]
    heading = "🧭 <b>{}</b>\n<i>{}</i>".format(
        _("Where you stand"),
        _("Only you see this: nobody else is named, and the others count only as numbers."),
    )
    return [heading, *(place_block(place) for place in places)]
