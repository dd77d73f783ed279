"""What results and digests say about a question's lead, in words that do not overclaim: a
leader only when the margin of error allows it, "too close to call" otherwise, and a warning
under ten voters."""

from __future__ import annotations

from babel.numbers import format_percent

from bot.content import Question
from bot.formatting import escape
from bot.i18n import _, current_language, current_locale, format_number, format_share, ngettext
from bot.insights import Lead, Reading, read_lead
from storage.queries import QuestionTally


def lead_of(question: Question, tally: QuestionTally) -> Lead:
    return read_lead(tally.voters, tally.votes, question.option_count)


def quoted(question: Question, index: int) -> str:
    return _("“{text}”").format(text=escape(question.options[current_language()][index]))


def verdict(question: Question, tally: QuestionTally, shift: str = "") -> str:
    """One sentence on who leads (empty without votes). `shift` follows the leader's share
    (the digest's change since the previous one)."""
    lead = lead_of(question, tally)
    if lead.reading is Reading.NO_VOTES or lead.first is None:
        return ""
    if lead.reading is Reading.SMALL_SAMPLE:
        return ngettext(
            "Only {count} voter: too few to read much into.",
            "Only {count} voters: too few to read much into.",
            lead.voters,
        ).format(count=format_number(lead.voters))
    if lead.reading is Reading.TOO_CLOSE and lead.second is not None:
        return _(
            "Too close to call: {first} ({first_share}) and {second} ({second_share}) are "
            "within the margin of error."
        ).format(
            first=quoted(question, lead.first),
            first_share=format_share(tally.share(lead.first)),
            second=quoted(question, lead.second),
            second_share=format_share(tally.share(lead.second)),
        )
    low, high = lead.interval
    return _(
        "Leading: {option} — {share}, between {low} and {high} with {confidence} confidence."
    ).format(
        option=escape(question.options[current_language()][lead.first]),
        confidence=confidence(),
        share=format_share(tally.share(lead.first)) + shift,
        low=format_share(low),
        high=format_share(high),
    )


def confidence() -> str:
    """The intervals' confidence level, "95 %" / "95%"."""
    return str(format_percent(0.95, locale=current_locale()))
