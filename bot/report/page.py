"""An article's report as HTML, in the current language: participation, each question with
its shares, their 95 % intervals and the verdict worded as /results words it, the newest
opinions without their authors, and the link to the CSV file."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.content import Question
from bot.core.formatting import voters_text
from bot.core.i18n import _, current_language, format_number, format_share, ngettext
from bot.core.localtime import moment_text
from bot.digests.text import agreement
from bot.insights.intervals import wilson
from bot.insights.results_text import no_answers_yet, share_text
from bot.insights.verdicts import confidence, verdict
from bot.report.charts import part_bar, share_bar
from bot.report.days import days_block, trend_block
from bot.report.figures import SHOWN_CHATS, ChatOrder, Figures
from bot.report.layout import article_path, document, header, heading, href, text
from storage.models import as_utc
from storage.polls import QuestionTally
from storage.report import ChatParticipation


def _figure(value: int, label: str) -> str:
    return f"<li><b>{format_number(value)}</b>{text(label)}</li>"


def participation_block(figures: Figures) -> str:
    """The article's numbers across chats, then a line on what "voters" counts."""
    voters, opinions, chats = figures.voters, figures.opinions, figures.chats_with_votes
    items = [
        _figure(voters, ngettext("voter", "voters", voters)),
        _figure(opinions, ngettext("opinion written", "opinions written", opinions)),
        _figure(chats, ngettext("chat with votes", "chats with votes", chats)),
    ]
    note = text(_("Voters: those of the most answered question."))
    return (
        heading("participation", _("Participation"))
        + f'<ul class="figures">{"".join(items)}</ul>'
        + f'<p class="muted"><small>{note}</small></p>'
        + days_block(figures.history.days)
    )


def _option(question: Question, tally: QuestionTally, index: int) -> str:
    low, high = wilson(tally.votes.get(index, 0), tally.voters)
    interval = _("{confidence} interval: {low} to {high}").format(
        confidence=confidence(), low=format_share(low), high=format_share(high)
    )
    share = share_text(tally, index)  # as /results writes it: "37,9 % (11)"
    option = question.options[current_language()][index]
    return (
        f'<li><div class="option"><span>{text(option)}</span>'
        f'<span class="numbers">{text(share)}</span></div>'
        f"{share_bar(tally.share(index), low, high, f'{share}, {interval}')}"
        f"<small>{text(interval)}</small></li>"
    )


def question_block(
    number: int,
    question: Question,
    tally: QuestionTally,
    ends: list[tuple[date, QuestionTally]] | None = None,
) -> str:
    """One question across chats: its voters, each option's share and interval, the leader's
    last days (`ends`: the question's results at the end of each), the verdict."""
    lines = [
        f'<section class="card" id="q{number}">'
        f"<h3>{number}. {text(question.text[current_language()])}</h3>",
        '<p class="muted">{}</p>'.format(
            text(
                _("{scope}: {voters}").format(
                    scope=_("All chats"), voters=voters_text(tally.voters)
                )
            )
        ),
    ]
    if question.multiple:
        lines.append(
            "<p><small>{}</small></p>".format(
                text(_("Several answers allowed: shares can add up to more than 100%."))
            )
        )
    if tally.voters:
        options = "".join(_option(question, tally, i) for i in range(question.option_count))
        lines.append(f'<ol class="options">{options}</ol>')
        lines.append(trend_block(question, tally, ends or []))
    else:  # no bar to draw, no interval worth giving (0 to 100 %)
        names = "".join(f"<li>{text(o)}</li>" for o in question.options[current_language()])
        lines.append(f'<ol class="options plain">{names}</ol>')
    # /results' words for all chats, already escaped for HTML text
    worded = verdict(question, tally, everywhere=True)
    if worded:
        lines.append(f'<p class="verdict">{worded}</p>')
    return "".join(lines) + "</section>"


def _sort_link(path: str, order: ChatOrder, current: ChatOrder, label: str) -> str:
    mark = ' aria-current="true"' if order is current else ""
    link = href(path, lang=current_language(), sort=order.value)
    return f'<a href="{link}#chats"{mark}>{text(label)}</a>'


def _chat_row(chat: ChatParticipation, busiest: int, zone: ZoneInfo) -> str:
    title = chat.title if chat.title is not None else _("A private chat")
    when = moment_text(as_utc(chat.last_activity), zone) if chat.last_activity else ""
    bar = part_bar(chat.voters, busiest, voters_text(chat.voters))
    return (
        f"<tr><td>{text(title)}</td><td class=\"n\">{format_number(chat.voters)}{bar}</td>"
        f'<td class="n">{format_number(chat.opinions)}</td>'
        f'<td class="when">{text(when)}</td></tr>'
    )


def chats_block(figures: Figures, order: ChatOrder, zone: ZoneInfo, links: bool = True) -> str:
    """The chats that took part, sortable by each column (links: no script needed; none
    inside Telegram, where the report has one address)."""
    if not figures.chats:
        return ""
    path = article_path(figures.article.id)
    chats = figures.sorted_chats(order)
    busiest = max(chat.voters for chat in chats)
    columns = [
        (ChatOrder.TITLE, _("Chat"), ""),
        (ChatOrder.VOTERS, _("Members who voted"), "n"),
        (ChatOrder.OPINIONS, _("Opinions"), "n"),
        (ChatOrder.ACTIVITY, _("Last activity"), "when"),
    ]
    heads = [
        f'<th scope="col" class="{kind}">'
        f"{_sort_link(path, column, order, label) if links else text(label)}</th>"
        for column, label, kind in columns
    ]
    rows = "".join(_chat_row(chat, busiest, zone) for chat in chats[:SHOWN_CHATS])
    more = ""
    if len(chats) > SHOWN_CHATS:
        more = "<p><small>{}</small></p>".format(
            text(
                _("The first {shown} of {count} chats; the CSV file has them all.").format(
                    shown=format_number(SHOWN_CHATS), count=format_number(len(chats))
                )
            )
        )
    return heading("chats", _("By chat")) + (
        '<section class="card"><table>'
        f'<thead><tr>{"".join(heads)}</tr></thead><tbody>{rows}</tbody></table>{more}</section>'
    )


def opinions_block(figures: Figures, zone: ZoneInfo) -> str:
    """The newest opinions, what they are about and when; never who wrote them."""
    numbers = {q.key: n for n, q in enumerate(figures.article.questions, 1)}
    quotes = []
    for opinion in figures.latest:
        number = numbers.get(opinion.question_key or "")
        about = _("On the article") if number is None else _("On question {number}").format(
            number=number
        )
        quotes.append(
            f"<blockquote>{text(opinion.text)}<footer>{text(about)} · "
            f"{text(moment_text(as_utc(opinion.created_at), zone))}</footer></blockquote>"
        )
    none = text(_("No opinions yet."))
    body = "".join(quotes) or f'<p class="muted">{none}</p>'
    return standouts_block(figures) + heading("opinions", _("Latest opinions")) + body


def standouts_block(figures: Figures) -> str:
    """The opinions the readers weighed most: the broadest agreement, the most divisive
    (nothing until enough people rated them)."""
    quotes = []
    for rated, label in (
        (figures.broadest, _("The broadest agreement")),
        (figures.divisive, _("The most divisive")),
    ):
        if rated is not None:
            counts = agreement(rated.agreed, rated.disagreed, rated.passed)
            quotes.append(
                f"<blockquote>{text(rated.text)}<footer>{text(label)} · "
                f"{text(counts)}</footer></blockquote>"
            )
    if not quotes:
        return ""
    return heading("weighed", _("Opinions weighed by the readers")) + "".join(quotes)


def article_page(
    figures: Figures,
    order: ChatOrder,
    zone: ZoneInfo,
    now: datetime,
    links: bool = True,
    groups: str = "",
) -> str:
    """/report/<article>: the whole report (without `links`: inside Telegram, where the
    report has one address and no other page to go to), `groups` (bot.report.groups)
    after the questions."""
    article, language = figures.article, current_language()
    path = article_path(article.id)
    title = article.title[language]
    csv_link = href(path + "/results.csv", lang=language)
    when = text(_("Figures of {moment}").format(moment=moment_text(now, zone)))
    parts = [
        header(title, path, sort=order.value if order is not ChatOrder.VOTERS else "")
        if links
        else f"<header><h1>{text(title)}</h1></header>",
        '<p class="muted"><small>{}</small> · <a href="{}">{}</a> · <a href="{}">{}</a> · '
        '<a href="{}">{}</a></p>'.format(
            when,
            href("/report", lang=language),
            text(_("All articles")),
            csv_link,
            text(_("Download the results (CSV)")),
            href(path + "/chart.png", lang=language),
            text(_("the chart (PNG)")),
        )
        if links
        else f'<p class="muted"><small>{when}</small></p>',
        participation_block(figures),
        heading("questions", _("Questions")),
    ]
    if figures.voters == 0:
        parts.append(f"<p>{text(no_answers_yet())}</p>")
    for number, question in enumerate(article.questions, 1):
        tally = figures.results.get(question.key) or QuestionTally()
        ends = figures.history.ends.get(question.key)
        parts.append(question_block(number, question, tally, ends))
    parts += [groups, chats_block(figures, order, zone, links), opinions_block(figures, zone)]
    return document(_("Report — {title}").format(title=title), "".join(parts))
