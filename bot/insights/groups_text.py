"""How opinion groups read in /groups: where they were looked for, each group and what sets
it apart, the common ground, the most divisive question, or how many more voters they need."""

from __future__ import annotations

from collections.abc import Sequence

from telegram.constants import ChatType

from bot.core.commands import GROUPS
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, format_number, format_share, ngettext
from bot.insights.clustering import MIN_GROUP
from bot.insights.opinion_groups import MIN_VOTERS, Group, OpinionGroups


def all_word() -> str:
    return "tous" if current_language() == "fr" else "all"


def usage() -> str:
    return _("Use /{groups} for this chat, or /{groups} {all} for all chats together.").format(
        groups=GROUPS.name(current_language()), all=all_word()
    )


def scope_text(everywhere: bool, chat_type: str) -> str:
    """Where the voters were counted, as the texts below say it."""
    if everywhere:
        return _("in all chats")
    if chat_type == ChatType.PRIVATE:
        return _("in this chat")
    if chat_type == ChatType.CHANNEL:
        return _("among the channel's identified respondents")
    return _("in this group")


STATEMENT_LENGTH = 120  # characters of an opinion quoted in /groups


def option_text(article: Article, question: int, option: int) -> str:
    text = article.questions[question].options[current_language()][option]
    return _("“{text}”").format(text=escape(text))


def quoted(statement: str) -> str:
    """An opinion as /groups quotes it: escaped, cut at STATEMENT_LENGTH characters."""
    if len(statement) > STATEMENT_LENGTH:
        statement = statement[: STATEMENT_LENGTH - 1].rstrip() + "…"
    return _("“{text}”").format(text=escape(statement))


def rating_text(statement: str, option: int) -> str:
    """A rating of a statement, as what sets a group apart."""
    forms = {
        0: _("agree with {statement}"),
        1: _("disagree with {statement}"),
        2: _("pass on {statement}"),
    }
    return forms[option].format(statement=quoted(statement))


def group_block(
    article: Article, number: int, group: Group, voters: int, statements: Sequence[str] = ()
) -> str:
    """One group: its size and share, and the answers that set it apart (a group too small
    is not described, so that nobody's answers can be deduced)."""
    heading = "<b>{}</b>".format(_("Group {number}").format(number=number))
    if not group.described:
        return _(
            "{group} · fewer than {minimum} people: not described, so that nobody's "
            "answers can be deduced."
        ).format(group=heading, minimum=MIN_GROUP)
    people = ngettext("{count} person", "{count} people", group.size).format(
        count=format_number(group.size)
    )
    lines = [f"{heading} · {people} ({format_share(group.size / voters)})"]
    polls = len(article.questions)
    for item in group.distinctive:
        if item.question >= polls:  # a rated statement
            lines.append(
                "• "
                + _("{rating}: {share} of them, against {others} of the others").format(
                    rating=rating_text(statements[item.question - polls], item.option),
                    share=format_share(item.share),
                    others=format_share(item.others),
                )
            )
            continue
        lines.append(
            "• "
            + _("{option} (question {number}): {share} of them, against {others} of the "
                "others").format(
                option=option_text(article, item.question, item.option),
                number=item.question + 1,
                share=format_share(item.share),
                others=format_share(item.others),
            )
        )
    if not group.distinctive:
        lines.append(_("Nothing sets this group clearly apart."))
    return "\n".join(lines)


def common_ground(article: Article, found: OpinionGroups) -> str | None:
    """The answers a majority of every group gave; None with fewer than two groups."""
    if not found.consensus:
        if sum(g.described for g in found.groups) >= 2:
            return _("No answer is shared by a majority of every group.")
        return None
    lines = ["<b>{}</b>".format(_("Common ground (a majority of every group):"))]
    lines += [
        "• "
        + _("{option} (question {number}): {lowest} to {highest}").format(
            option=option_text(article, item.question, item.option),
            number=item.question + 1,
            lowest=format_share(item.lowest),
            highest=format_share(item.highest),
        )
        for item in found.consensus
    ]
    return "\n".join(lines)


def division_block(article: Article, found: OpinionGroups) -> str | None:
    """The question whose answers differ most between the groups, and how much."""
    division = found.division
    if division is None:
        return None
    described = [n for n, g in enumerate(found.groups, 1) if g.described]
    shares = ", ".join(
        _("{share} in group {number}").format(share=format_share(share), number=number)
        for number, share in zip(described, division.shares, strict=True)
    )
    return "<b>{}</b>\n{}".format(
        _("Most divisive: question {number}").format(number=division.question + 1),
        _("{question}\n{option}: {shares}.").format(
            question=escape(article.questions[division.question].text[current_language()]),
            option=option_text(article, division.question, division.option),
            shares=shares,
        ),
    )


def statements_block(
    article: Article, found: OpinionGroups, statements: Sequence[str]
) -> str | None:
    """The opinions a majority of every group agrees with, and those that divide them most
    (their share of agreement in each group)."""
    polls, lines = len(article.questions), []
    if found.agreed:
        lines.append("<b>{}</b>".format(_("What brings the groups together:")))
        lines += [
            "• "
            + _("{statement}: agreed by {lowest} to {highest} of each group").format(
                statement=quoted(statements[item.question - polls]),
                lowest=format_share(item.lowest),
                highest=format_share(item.highest),
            )
            for item in found.agreed
        ]
    if found.dividing:
        described = [n for n, g in enumerate(found.groups, 1) if g.described]
        if lines:
            lines.append("")
        lines.append("<b>{}</b>".format(_("The opinions that divide them most:")))
        for division in found.dividing:
            shares = ", ".join(
                _("{share} in group {number}").format(share=format_share(share), number=number)
                for number, share in zip(described, division.shares, strict=True)
            )
            lines.append(
                "• "
                + _("{statement}: agreed by {shares}").format(
                    statement=quoted(statements[division.question - polls]), shares=shares
                )
            )
    return "\n".join(lines) if lines else None


def groups_blocks(
    article: Article, found: OpinionGroups, scope: str, statements: Sequence[str] = ()
) -> list[str]:
    """/groups: a heading, each group, what they share and what divides them most."""
    heading = "🧭 <b>{}</b>\n{}".format(
        escape(_("Opinion groups — {title}").format(title=article.title[current_language()])),
        ngettext(
            "Based on {count} voter who answered at least half of the questions, {scope}.",
            "Based on {count} voters who answered at least half of the questions, {scope}.",
            found.voters,
        ).format(count=format_number(found.voters), scope=scope),
    )
    if statements:
        heading += " " + ngettext(
            "Their ratings of {count} opinion, the most rated, count too, like answers.",
            "Their ratings of {count} opinions, the most rated, count too, like answers.",
            len(statements),
        ).format(count=len(statements))
    blocks = [heading]
    if len(found.groups) == 1:  # every grouping merged back into one (bot.insights.clustering)
        blocks.append(
            _(
                "The voters do not split into distinct groups: where some answer differently, "
                "it is on one question at most."
            )
        )
        return blocks
    blocks += [
        group_block(article, number, group, found.voters, statements)
        for number, group in enumerate(found.groups, 1)
    ]
    blocks += [
        block
        for block in (
            common_ground(article, found),
            division_block(article, found),
            statements_block(article, found, statements),
        )
        if block is not None
    ]
    if found.weak:
        blocks.append(
            "<i>{}</i>".format(
                _("These groups overlap a lot: read them as tendencies rather than camps.")
            )
        )
    return blocks


def too_few(count: int, scope: str, everywhere: bool) -> str:
    """How many more voters opinion groups need, and where to look for all chats."""
    language = current_language()
    missing = MIN_VOTERS - count
    text = _(
        "Opinion groups need at least {minimum} voters who answered at least half of the "
        "questions ({count} so far, {scope}): {missing}."
    ).format(
        minimum=MIN_VOTERS,
        count=format_number(count),
        scope=scope,
        missing=ngettext("{count} more is needed", "{count} more are needed", missing).format(
            count=format_number(missing)
        ),
    )
    if not everywhere:
        text += " " + _("For all chats together: /{groups} {all}.").format(
            groups=GROUPS.name(language), all=all_word()
        )
    return text
