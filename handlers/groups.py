"""/groups [/camps]: opinion groups among the voters of the chat (or of all chats), what sets
each apart, what they share, and the question that divides them most."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import ALL_CHATS_WORDS, GROUPS
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, format_number, format_share, ngettext
from bot.engine.transaction import with_session
from bot.insights.clustering import MIN_GROUP
from bot.insights.opinion_groups import MIN_VOTERS, Ballots, OpinionGroups, describe
from handlers.common import (
    answer_later,
    command,
    current_article,
    reply,
    reply_blocks,
    stored_chat,
)
from storage.insights import answer_patterns


def all_word() -> str:
    return "tous" if current_language() == "fr" else "all"


def option_text(article: Article, question: int, option: int) -> str:
    text = article.questions[question].options[current_language()][option]
    return _("“{text}”").format(text=escape(text))


def groups_blocks(article: Article, found: OpinionGroups, scope: str) -> list[str]:
    language = current_language()
    blocks = [
        "🧭 <b>{}</b>\n{}".format(
            escape(_("Opinion groups — {title}").format(title=article.title[language])),
            ngettext(
                "Based on {count} voter who answered at least half of the questions, {scope}.",
                "Based on {count} voters who answered at least half of the questions, {scope}.",
                found.voters,
            ).format(count=format_number(found.voters), scope=scope),
        )
    ]
    for number, group in enumerate(found.groups, 1):
        people = ngettext("{count} person", "{count} people", group.size).format(
            count=format_number(group.size)
        )
        heading = "<b>{}</b>".format(_("Group {number}").format(number=number))
        if not group.described:
            blocks.append(
                _(
                    "{group} · fewer than {minimum} people: not described, so that nobody's "
                    "answers can be deduced."
                ).format(group=heading, minimum=MIN_GROUP)
            )
            continue
        lines = [f"{heading} · {people} ({format_share(group.size / found.voters)})"]
        for item in group.distinctive:
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
        blocks.append("\n".join(lines))
    if found.consensus:
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
        blocks.append("\n".join(lines))
    elif sum(g.described for g in found.groups) >= 2:
        blocks.append(_("No answer is shared by a majority of every group."))
    if found.division is not None:
        division = found.division
        described = [n for n, g in enumerate(found.groups, 1) if g.described]
        shares = ", ".join(
            _("{share} in group {number}").format(share=format_share(share), number=number)
            for number, share in zip(described, division.shares, strict=True)
        )
        blocks.append(
            "<b>{}</b>\n{}".format(
                _("Most divisive: question {number}").format(number=division.question + 1),
                _("{question}\n{option}: {shares}.").format(
                    question=escape(article.questions[division.question].text[language]),
                    option=option_text(article, division.question, division.option),
                    shares=shares,
                ),
            )
        )
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


CLUSTERING = threading.Lock()


def describe_in_turn(ballots: Ballots) -> OpinionGroups | None:
    """`describe`, one call at a time (in threads): at 100,000 voters each takes about 0.7 s
    and 90 MiB (README, "Insights"), no more at once than when they ran on the event loop."""
    with CLUSTERING:
        return describe(ballots)


@with_session
async def show_groups(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Find opinion groups among the voters of this chat, or of all chats."""
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    article = current_article(context, chat)
    language = current_language()
    words = [word.lower() for word in context.args or []]
    everywhere = bool(words) and words[0] in ALL_CHATS_WORDS
    if words and (not everywhere or len(words) > 1):
        reply(
            update,
            _("Use /{groups} for this chat, or /{groups} {all} for all chats together.").format(
                groups=GROUPS.name(language), all=all_word()
            ),
        )
        return
    if everywhere:
        scope = _("in all chats")
    elif chat.type == ChatType.PRIVATE:
        scope = _("in this chat")
    else:
        scope = _("in this group")
    questions = [(question.key, question.option_count) for question in article.questions]
    database, chat_id = context.services.database, None if everywhere else chat.id

    async def compute() -> tuple[OpinionGroups | None, int]:
        async with database.read() as reading:
            patterns = await answer_patterns(reading, article.id, chat_id, questions)
        ballots = Ballots.of_patterns([options for _, options in questions], patterns)
        # In a thread: the event loop goes on with other chats meanwhile.
        return await asyncio.to_thread(describe_in_turn, ballots), ballots.eligible_voters()

    def answer(computed: tuple[OpinionGroups | None, int]) -> None:
        found, eligible = computed
        if found is None:
            blocks = [too_few(eligible, scope, everywhere)]
        else:
            blocks = groups_blocks(article, found, scope)
        reply_blocks(update, blocks)

    # Up to a second at 100,000 voters: computed after this update's transaction, which
    # would otherwise make every writer wait on SQLite, and without holding up other chats;
    # the same question asked meanwhile (twenty /groups all) shares the computation.
    key = (article.id, chat_id, tuple(questions))
    answer_later(update, context, "groups", key, compute, answer)


def register(app: AgoraApp) -> None:
    app.add_handler(command(GROUPS.names, show_groups))
