"""What the close of a chat's polls says: the final results, the notes /results and the
digest carry about a close to come or done, the reminder, and the answers of /close."""

from __future__ import annotations

from datetime import date, datetime

from telegram.constants import ChatType

from bot.core.commands import CLOSE, POLL, RESULTS
from bot.core.content import Article
from bot.core.formatting import escape, voters_text
from bot.core.i18n import _, current_language, format_day_time, format_long_date
from bot.insights.results_text import here_label, question_block, round_note
from bot.insights.standings import Earlier, Tallies, standings


def final_blocks(
    article: Article,
    now: Tallies,
    closed_on: date,
    chat_type: str,
    round_before: Earlier | None = None,
) -> list[str]:
    """The final results: a heading that says they are final and since when, then every
    question as /results shows it (in a later round, beside the `round_before`)."""
    language = current_language()
    title = article.title[language]
    compared = round_before.round if round_before is not None else None
    if compared is not None:
        title += " — " + _("round {number}").format(number=compared + 1)
    heading = "🏁 <b>{}</b>\n{}".format(
        escape(_("Final results — {title}").format(title=title)), closed_note(closed_on)
    )
    if compared is not None:
        heading += "\n" + round_note(compared, round_before.day if round_before else None)
    by_question = standings(article, now, round_before.tallies if round_before else None)
    here = here_label(chat_type)
    if not any(standing.here.voters for standing in by_question.values()):
        if chat_type == ChatType.PRIVATE:
            nobody = _("Nobody answered the polls in this chat.")
        elif chat_type == ChatType.CHANNEL:
            nobody = _("Nobody answered the polls in this channel.")
        else:
            nobody = _("Nobody answered the polls in this group.")
        return [heading, nobody]
    return [heading] + [
        question_block(number, question, by_question[question.key], here, True, compared)
        for number, question in enumerate(article.questions, 1)
    ]


def final_caption(closed_on: date) -> str:
    return _("Final results of {date}").format(date=format_long_date(closed_on))


def closed_note(closed_on: date) -> str:
    """Under a heading: the polls are closed, the figures final."""
    return "<i>{}</i>".format(
        _("The polls closed on {date}: these figures are final.").format(
            date=format_long_date(closed_on)
        )
    )


def closing_note(due: datetime) -> str:
    """Under a heading: when the polls close (`due` in the chat's zone)."""
    return "<i>{}</i>".format(_("The polls close on {when}.").format(when=format_day_time(due)))


def scheduled_text(due: datetime) -> str:
    language = current_language()
    return _(
        "⏳ The polls will close on {when}; the final results will follow. To cancel: "
        "/{close} off"
    ).format(when=format_day_time(due), close=CLOSE.name(language))


def cancelled_text() -> str:
    return _("The scheduled close is cancelled: the polls stay open.")


def nothing_scheduled_text() -> str:
    return _("No close was scheduled: the polls stay open.")


def already_closed_text(has_message: bool) -> str:
    if has_message:
        return _("The polls are already closed: here are the final results.")
    return _("The polls are already closed. Results: /{results}").format(
        results=RESULTS.name(current_language())
    )


def no_polls_text() -> str:
    return _("There are no polls to close in this chat yet. Post them with /{poll}.").format(
        poll=POLL.name(current_language())
    )


def too_soon_text(minutes: int) -> str:
    return _("A close must be at least {minutes} minutes ahead.").format(minutes=minutes)


def unclear_text(value: str) -> str:
    language = current_language()
    return _(
        "I don't understand “{value}”. Use /{close} to close now, /{close} 2h, /{close} {days}, "
        "/{close} 18:30 or /{close} off."
    ).format(value=value, close=CLOSE.name(language), days=_("3d"))


def reminder_text(due: datetime, voters: int) -> str:
    """An hour before the close: how many have answered, and the way to the polls (the
    reminder replies to the first one)."""
    return _(
        "⏰ The polls close in an hour, on {when}: {voters} so far. There is still time to "
        "answer, starting with this poll."
    ).format(when=format_day_time(due), voters=voters_text(voters))


def hidden_blocks(article: Article, answered: dict[str, int], due: datetime | None) -> list[str]:
    """Results hidden until the close: how many answered each question, and when the
    results will be revealed (`due` in the chat's zone; None: at a /close)."""
    language = current_language()
    if due is not None:
        when = _("The results stay hidden until the polls close, on {when}.").format(
            when=format_day_time(due)
        )
    else:
        when = _(
            "The results stay hidden until an administrator closes the polls with /{close}."
        ).format(close=CLOSE.name(language))
    heading = "🙈 <b>{}</b>\n<i>{}</i>".format(
        escape(_("Results — {title}").format(title=article.title[language])), when
    )
    lines = []
    for number, question in enumerate(article.questions, 1):
        voters = voters_text(answered.get(question.key, 0))
        lines.append(f"{number}. {escape(question.text[language])} — {voters}")
    return [heading, "\n".join(lines)]
