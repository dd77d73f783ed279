"""How a question's results read, in /results and in the daily digest: one block, the same
lines in both (voters here and in all chats, a bar per option, the verdict), every option in
/results and the leading ones in the digest. In brackets, a number of votes is bare ("(11)")
and a change since the previous digest signed ("(+3)", "(−2,1 pts)"), as the note says."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal
from telegram.constants import ChatType

from bot.core.commands import POLL
from bot.core.content import Article, Question
from bot.core.formatting import bar, escape, voters_text
from bot.core.i18n import (
    _,
    current_language,
    current_locale,
    format_long_date,
    format_number,
    format_share,
    ngettext,
)
from bot.insights.standings import Earlier, Standing, Tallies, standings
from bot.insights.verdicts import verdict
from storage.models import Chat
from storage.polls import QuestionTally

LEADING_OPTIONS = 3  # options a digest shows per question
MINUS = "\u2212"  # a change below zero: the minus sign, not a hyphen


def signed(value: str) -> str:
    """A signed number as typeset: the minus sign (U+2212) rather than a hyphen."""
    return value.replace("-", MINUS)


def signed_points(points: float) -> str:
    """A change in percentage points, unbreakable before its unit: "+2,1 pts" / "−2.1 pts"."""
    language = current_language()
    value = signed(
        format_decimal(round(points, 1), format="+#,##0.0;-#,##0.0", locale=current_locale())
    )
    # The language's plural rule for a number shown with one decimal: "1,5 pt" in French,
    # but "1.0 pts" in English, where only a bare 1 is singular.
    one = Locale.parse(language).plural_form(Decimal(f"{abs(points):.1f}")) == "one"
    return ngettext("{value} pt", "{value} pts", 1 if one else 2).format(value=value)


def voters_change(now: QuestionTally, before: QuestionTally | None) -> str:
    """ "29 voters", and "29 voters (+3)" when there were 26 before (the change only: a
    count of voters is never in brackets)."""
    voters = voters_text(now.voters)
    if before is None or now.voters == before.voters:
        return voters  # no "+0"
    change = signed(
        format_decimal(now.voters - before.voters, format="+#,##0;-#,##0", locale=current_locale())
    )
    return f"{voters} ({change})"


def moved(now: QuestionTally, before: QuestionTally | None, index: int) -> str:
    """How option `index`'s share moved since `before`: "+2,1 pts"; "" when there is nothing
    to compare with, or it did not move (no "+0,0 pt")."""
    if before is None or not before.voters:
        return ""
    change = (now.share(index) - before.share(index)) * 100
    return signed_points(change) if round(change, 1) else ""


def share_text(tally: QuestionTally, index: int, before: QuestionTally | None = None) -> str:
    """ "37,9 % (11)", and with `before` its change in points: "37,9 % (11, +2,1 pts)"."""
    count = format_number(tally.votes.get(index, 0))
    change = moved(tally, before, index)
    if change:
        count += ", " + change
    return f"{format_share(tally.share(index))} ({count})"


def leader_line(
    question: Question, now: QuestionTally, before: QuestionTally | None, everywhere: bool = False
) -> str:
    """Who leads, if the margin of error allows naming a leader, with its change in points
    (`everywhere`: the sentence for all chats together)."""
    ranking = now.ranking()
    if not ranking:
        return ""
    change = moved(now, before, ranking[0])
    return verdict(question, now, f" ({change})" if change else "", everywhere)


def here_label(chat_type: str) -> str:
    """What the chat's own figures are called beside all chats'."""
    if chat_type == ChatType.PRIVATE:
        return _("This chat")
    if chat_type == ChatType.CHANNEL:
        return _("This channel")
    return _("This group")


def question_block(
    number: int,
    question: Question,
    standing: Standing,
    here_is: str,
    every_option: bool,
    earlier_round: int | None = None,
) -> str:
    """One question: its text, its voters here (`here_is`: what here is called, `here_label`)
    and in all chats, a bar per option (every
    option in its order with both shares, or the leading ones with the chat's), the verdict
    here, and in all chats when it differs. Beside a round before (`earlier_round`: the
    standing's earlier counts are that round's), each option shows its share in that round
    instead of all chats'."""
    language = current_language()
    here, everywhere = standing.here, standing.everywhere
    voters = _("{scope}: {voters}")
    lines = [
        f"<b>{number}. {escape(question.text[language])}</b>",
        "<i>{here} · {everywhere}</i>".format(
            here=voters.format(scope=here_is, voters=voters_change(here, standing.here_before)),
            everywhere=voters.format(
                scope=_("Overall"), voters=voters_change(everywhere, standing.everywhere_before)
            ),
        ),
    ]
    if question.multiple:
        lines.append(
            "<i>{}</i>".format(_("Several answers allowed: shares can add up to more than 100%."))
        )
    options = question.options[language]
    if every_option:
        before = standing.here_before
        for index, option in enumerate(options):
            if earlier_round is not None:
                beside = _("round {number}: {share}").format(
                    number=earlier_round,
                    share=format_share(before.share(index)) if before and before.voters else "—",
                )
            else:
                beside = _("overall: {share}").format(share=share_text(everywhere, index))
            lines.append(escape(option))
            shares = f"{share_text(here, index, before)} · {beside}"
            lines.append(f"<code>{bar(here.share(index))}</code> {shares}")
    else:
        for index in here.ranking()[:LEADING_OPTIONS]:
            share = here.share(index)
            lines.append(
                f"<code>{bar(share)}</code> {share_text(here, index)} {escape(options[index])}"
            )
    if here.voters:
        lines.append(leader_line(question, here, standing.here_before))
    if everywhere.voters and everywhere != here:
        everywhere_verdict = leader_line(
            question, everywhere, standing.everywhere_before, everywhere=True
        )
        lines.append(f"<i>{everywhere_verdict}</i>")
    return "\n".join(lines)


def no_answers_yet() -> str:
    return _("No answers yet. Post the polls with /{poll} and invite everyone to vote.").format(
        poll=POLL.name(current_language())
    )


def round_note(earlier_round: int, closed: date | None) -> str:
    """What the numbers in brackets are beside the round before: its number and close."""
    if closed is None:
        return "<i>{}</i>".format(
            _("In brackets: the number of votes; signed (+ or −), the change since round "
              "{number}.").format(number=earlier_round)
        )
    return "<i>{}</i>".format(
        _(
            "In brackets: the number of votes; signed (+ or −), the change since round "
            "{number}, closed on {date}."
        ).format(number=earlier_round, date=format_long_date(closed))
    )


def changes_note(since: date | None) -> str:
    """What the numbers in brackets are, under a heading: a bare one counts votes, a signed
    one is the change since the digest of a day, or since the last one."""
    if since is None:
        return "<i>{}</i>".format(
            _(
                "In brackets: the number of votes; signed (+ or −), the change since the last "
                "digest."
            )
        )
    return "<i>{}</i>".format(
        _(
            "In brackets: the number of votes; signed (+ or −), the change since the digest of "
            "{date}."
        ).format(
            date=format_long_date(since)
        )
    )


def results_blocks(
    article: Article,
    now: Tallies,
    earlier: Earlier | None,
    chat_type: str,
    closing: str | None = None,
) -> list[str]:
    """/results: a heading, then every question with every option, and each share's change
    since the `earlier` digest's count, or beside the round before (`closing`: what the
    heading says of the polls' close, bot.insights.closing_text)."""
    language = current_language()
    compared = earlier.round if earlier is not None else None
    title = article.title[language]
    if compared is not None:
        title += " — " + _("round {number}").format(number=compared + 1)
    heading = "📊 <b>{}</b>".format(escape(_("Results — {title}").format(title=title)))
    if closing:
        heading += "\n" + closing
    by_question = standings(article, now, earlier.tallies if earlier is not None else None)
    if compared is None and not any(s.everywhere.voters for s in by_question.values()):
        return [heading, no_answers_yet()]
    if compared is not None:
        heading += "\n" + round_note(compared, earlier.day if earlier is not None else None)
    elif earlier is not None:
        heading += "\n" + changes_note(earlier.day)
    return [heading] + [
        question_block(
            number, question, by_question[question.key], here_label(chat_type), True, compared
        )
        for number, question in enumerate(article.questions, 1)
    ]


def channel_line(channel: Chat, respondents: int) -> str:
    """Whose a channel's results are, as /results and the digest say it: its anonymous votes,
    and how many answered in person (the identified respondents)."""
    return _("Channel {channel}: anonymous votes · identified respondents: {count}").format(
        channel=escape(channel.title or str(channel.id)), count=format_number(respondents)
    )


def in_person_blocks(article: Article, in_person: Tallies, respondents: int) -> list[str]:
    """A channel's identified respondents (who answered in person, in private, through its
    link): a heading, then every question with their answers beside all chats'."""
    heading = "🙋 <b>{}</b>\n<i>{}</i>".format(
        escape(_("Identified respondents")),
        escape(
            ngettext(
                "{count} person answered in person, in private, through the channel's link.",
                "{count} people answered in person, in private, through the channel's link.",
                respondents,
            ).format(count=format_number(respondents))
        ),
    )
    by_question = standings(article, in_person, None)
    return [heading] + [
        question_block(number, question, by_question[question.key], _("In person"), True)
        for number, question in enumerate(article.questions, 1)
    ]
