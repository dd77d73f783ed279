"""Rating the others' opinions, one at a time in a private chat: which opinion comes next,
recording a press, the card that shows an opinion with its three buttons, and what is said
when none is left. handlers/rating parses and answers with these.

The next opinion is, of the group's opinions on its current article that the person did not
write and has not rated, the one the fewest people have rated (the newest among equals): a
new opinion starts at zero, so it is shown first to the next people who rate. A person rates
an opinion once: a press on an opinion they already rated (an old message) changes nothing,
and the message moves on to their next opinion.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.arguments import number
from bot.core.callbacks import Callback, decode, encode
from bot.core.commands import RATE
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, format_number, ngettext
from bot.discussion.links import signature
from storage.models import INTEGER_MAX, Chat, Opinion
from storage.opinions import opinion_by_id
from storage.ratings import (
    AGREE,
    DISAGREE,
    PASS,
    add_rating,
    left_to_rate,
    next_to_rate,
    rated_count,
    rating_of,
)

VALUES = {"a": AGREE, "d": DISAGREE, "p": PASS}


@dataclass(frozen=True, slots=True)
class RateButton:
    """A press on a rating card: `value` for opinion `opinion_id` of group `chat_id`,
    signed so that a forged press names no group."""

    chat_id: int
    opinion_id: int
    value: int

    def encode(self, token: str) -> str:
        letter = next(k for k, v in VALUES.items() if v == self.value)
        return encode(
            Callback.RATE, self.chat_id, self.opinion_id, letter, signature(token, self.chat_id)
        )

    @classmethod
    def decode(cls, token: str, data: str | None) -> RateButton | None:
        fields = decode(Callback.RATE, data, 4)
        if fields is None or fields[2] not in VALUES:
            return None
        chat_id = number(fields[0].removeprefix("-"))
        opinion_id = number(fields[1], INTEGER_MAX)
        if chat_id is None or opinion_id is None or fields[3] != signature(token, int(fields[0])):
            return None
        return cls(int(fields[0]), opinion_id, VALUES[fields[2]])


class Outcome(enum.Enum):
    RECORDED = "recorded"
    ALREADY = "already"  # rated before: the first rating stays
    GONE = "gone"  # removed by moderation (or forgotten) since the card was sent
    OWN = "own"  # a forged press on one's own opinion


async def record_press(
    session: AsyncSession, press: RateButton, user_id: int, now: datetime
) -> Outcome:
    """Record the rating unless the opinion is gone, the person's own, or already rated."""
    opinion = await opinion_by_id(session, press.chat_id, press.opinion_id)
    if opinion is None:
        return Outcome.GONE
    if opinion.user_id == user_id:
        return Outcome.OWN
    if await rating_of(session, opinion.id, user_id) is not None:
        return Outcome.ALREADY
    await add_rating(session, opinion.id, user_id, press.value, now)
    return Outcome.RECORDED


def outcome_notice(outcome: Outcome) -> str | None:
    """What the press's notice says (None: nothing, the card itself moves on)."""
    if outcome is Outcome.ALREADY:
        return _("You had already rated this opinion: your first rating stays.")
    if outcome is Outcome.GONE:
        return _("This opinion has been removed.")
    return None


@dataclass(frozen=True, slots=True)
class Card:
    text: str
    keyboard: InlineKeyboardMarkup | None


def group_name(group: Chat) -> str:
    return "<b>{}</b>".format(escape(group.title or _("your group")))


def _about(article: Article, opinion: Opinion) -> str:
    question = article.question(opinion.question_key) if opinion.question_key else None
    if question is None:
        return _("On the article")
    place = [q.key for q in article.questions].index(question.key) + 1
    return f"{place}. {question.text[current_language()]}"


def opinion_card(
    group: Chat, article: Article, opinion: Opinion, rated: int, left: int, token: str
) -> Card:
    """One opinion to rate (its author is not named: the statement is judged, not its
    writer), where it comes from, and how far the person has got."""
    heading = _("🗳 Opinions in {group} — {title}").format(
        group=group_name(group), title=escape(article.title[current_language()])
    )
    progress = _("Rated so far: {rated} · left, this one included: {left}").format(
        rated=format_number(rated), left=format_number(left)
    )
    text = "{}\n\n<i>{}</i>\n{}\n\n{}\n<i>{}</i>".format(
        heading,
        escape(_about(article, opinion)),
        escape(opinion.text),
        _("Do you agree?"),
        progress,
    )
    labels = ((AGREE, _("👍 Agree")), (DISAGREE, _("👎 Disagree")), (PASS, _("Pass")))
    buttons = [
        InlineKeyboardButton(
            label, callback_data=RateButton(group.id, opinion.id, value).encode(token)
        )
        for value, label in labels
    ]
    return Card(text, InlineKeyboardMarkup([buttons]))


def done_card(group: Chat, rated: int) -> Card:
    """No opinion left to rate: say so, and how many the person rated."""
    if not rated:
        text = _(
            "There is no opinion to rate in {group} yet (yours are not shown to you). Come "
            "back once others have written some: /{rate}."
        )
    else:
        text = ngettext(
            "That's all for now: you have rated every opinion in {group} ({count} opinion). "
            "Come back when new ones are written: /{rate}.",
            "That's all for now: you have rated every opinion in {group} ({count} opinions). "
            "Come back when new ones are written: /{rate}.",
            rated,
        )
    return Card(
        text.format(
            group=group_name(group),
            count=format_number(rated),
            rate=RATE.name(current_language()),
        ),
        None,
    )


async def next_card(
    session: AsyncSession, group: Chat, article: Article, user_id: int, token: str
) -> Card:
    """The card the person sees next for the group: an opinion to rate, or the end."""
    opinion = await next_to_rate(session, group.id, article.id, user_id)
    rated = await rated_count(session, group.id, article.id, user_id)
    if opinion is None:
        return done_card(group, rated)
    left = await left_to_rate(session, group.id, article.id, user_id)
    return opinion_card(group, article, opinion, rated, left, token)


def rate_button(url: str) -> InlineKeyboardButton:
    """The button under /opinions and the digest in a group: to the private chat."""
    return InlineKeyboardButton(_("Rate the others' opinions"), url=url)
