"""What results and digests say about a question's lead, in words that do not overclaim: a
leader only when the margin of error allows it, "neck and neck" otherwise, and a warning
under ten voters."""

from __future__ import annotations

from babel.numbers import format_percent

from bot.core.content import Question
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, current_locale, format_number, format_share, ngettext
from bot.insights.intervals import Lead, Reading, read_lead
from storage.polls import QuestionTally


def lead_of(question: Question, tally: QuestionTally) -> Lead:
    return read_lead(tally.voters, tally.votes, question.option_count)


def quoted(question: Question, index: int) -> str:
    return _("“{text}”").format(text=escape(question.options[current_language()][index]))


def verdict(
    question: Question, tally: QuestionTally, shift: str = "", everywhere: bool = False
) -> str:
    """One sentence on who leads (empty without votes). `shift` follows the leader's share
    (the digest's change since the previous one); `everywhere`: the sentence for all chats
    together, which names that scope itself (a whole sentence to translate, not a prefix)."""
    lead = lead_of(question, tally)
    if lead.reading is Reading.NO_VOTES or lead.first is None:
        return ""
    if lead.reading is Reading.SMALL_SAMPLE:
        if everywhere:
            text = ngettext(
                "Overall, only {count} voter: too few to read much into.",
                "Overall, only {count} voters: too few to read much into.",
                lead.voters,
            )
        else:
            text = ngettext(
                "Only {count} voter: too few to read much into.",
                "Only {count} voters: too few to read much into.",
                lead.voters,
            )
        return text.format(count=format_number(lead.voters))
    if lead.reading is Reading.TOO_CLOSE and lead.second is not None:
        if everywhere:
            text = _(
                "Overall, {first} ({first_share}) and {second} ({second_share}) are neck and "
                "neck; the gap between them is within the margin of error."
            )
        else:
            text = _(
                "Neck and neck: {first} ({first_share}) and {second} ({second_share}); the gap "
                "between them is within the margin of error."
            )
        return text.format(
            first=quoted(question, lead.first),
            first_share=format_share(tally.share(lead.first)),
            second=quoted(question, lead.second),
            second_share=format_share(tally.share(lead.second)),
        )
    low, high = lead.interval
    if everywhere:
        text = _(
            "Overall, {option} leads with {share}; the {confidence} confidence interval runs "
            "from {low} to {high}."
        )
    else:
        text = _(
            "Leading: {option} with {share}; the {confidence} confidence interval runs from "
            "{low} to {high}."
        )
    return text.format(
        option=quoted(question, lead.first),
        confidence=confidence(),
        share=format_share(tally.share(lead.first)) + shift,
        low=format_share(low),
        high=format_share(high),
    )


def confidence() -> str:
    """The intervals' confidence level, "95 %" / "95%"."""
    return str(format_percent(0.95, locale=current_locale()))
