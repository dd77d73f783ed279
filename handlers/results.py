"""/results [/resultats]: each question's counts, shares and bars, here and in all chats."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType

from bot.commands import POLL, RESULTS
from bot.content import Article, Question
from bot.context import AgoraApp, AgoraContext
from bot.digests.text import Numbers, read_tally, signed_points
from bot.formatting import bar, escape, voters_text
from bot.i18n import _, current_language, format_long_date, format_number, format_share
from bot.localtime import chat_zone
from bot.transaction import with_session
from bot.verdicts import verdict
from handlers.common import command, current_article, reply_blocks, stored_chat
from storage.digests import digest_before
from storage.queries import QuestionTally, article_results


def share_text(tally: QuestionTally, index: int, before: QuestionTally | None = None) -> str:
    """ "37,9 % (11)", and with `before` its change in points: "37,9 % (11, +2,1 pts)"."""
    count = format_number(tally.votes.get(index, 0))
    if before is not None and before.voters:
        count += ", " + signed_points((tally.share(index) - before.share(index)) * 100)
    return f"{format_share(tally.share(index))} ({count})"


def question_block(
    number: int,
    question: Question,
    here: QuestionTally,
    everywhere: QuestionTally,
    private: bool,
    before: QuestionTally | None = None,
) -> str:
    """One question: its text, voter counts, then per option a bar, here and in all chats."""
    language = current_language()
    scope = _("This chat") if private else _("This group")
    lines = [
        f"<b>{number}. {escape(question.text[language])}</b>",
        "<i>{here} · {everywhere}</i>".format(
            here=_("{scope}: {voters}").format(scope=scope, voters=voters_text(here.voters)),
            everywhere=_("{scope}: {voters}").format(
                scope=_("All chats"), voters=voters_text(everywhere.voters)
            ),
        ),
    ]
    if question.multiple:
        lines.append(
            "<i>{}</i>".format(_("Several answers allowed: shares can add up to more than 100%."))
        )
    for index, option in enumerate(question.options[language]):
        share = here.share(index)
        lines.append(escape(option))
        lines.append(
            "<code>{bar}</code> {here} · {everywhere}".format(
                bar=bar(share),
                here=share_text(here, index, before),
                everywhere=_("all: {share}").format(share=share_text(everywhere, index)),
            )
        )
    if here.voters:
        lines.append(verdict(question, here))
    if everywhere.voters and everywhere != here:
        lines.append(
            "<i>{}</i>".format(
                _("{scope}: {verdict}").format(
                    scope=_("All chats"), verdict=verdict(question, everywhere)
                )
            )
        )
    return "\n".join(lines)


def results_blocks(
    article: Article,
    here: dict[str, QuestionTally],
    everywhere: dict[str, QuestionTally],
    private: bool,
    previous: Numbers | None = None,
    since: date | None = None,
) -> list[str]:
    language = current_language()
    blocks = [
        "📊 <b>{}</b>".format(escape(_("Results — {title}").format(title=article.title[language])))
    ]
    if not any(t.voters for t in everywhere.values()):
        blocks.append(
            _("No answers yet. Post the polls with /{poll} and invite everyone to vote.").format(
                poll=POLL.name(language)
            )
        )
        return blocks
    if previous is not None and since is not None:
        blocks[0] += "\n<i>{}</i>".format(
            _("In brackets: the change since the digest of {date}.").format(
                date=format_long_date(since)
            )
        )
    for number, question in enumerate(article.questions, 1):
        blocks.append(
            question_block(
                number,
                question,
                here.get(question.key, QuestionTally()),
                everywhere.get(question.key, QuestionTally()),
                private,
                read_tally(previous, "chat", question.key),
            )
        )
    return blocks


@with_session
async def show_results(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Send the results of the chat's article."""
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    article = current_article(context, chat)
    here = await article_results(session, article.id, chat.id)
    everywhere = await article_results(session, article.id)
    # Trends: each share's change since the chat's latest digest before today (its numbers
    # are recorded with it); none without a digest.
    scheduler = context.digests
    today = scheduler.clock().astimezone(chat_zone(chat, context.services.settings)).date()
    previous = await digest_before(session, chat.id, today)
    reply_blocks(
        update,
        results_blocks(
            article,
            here,
            everywhere,
            chat.type == ChatType.PRIVATE,
            previous.numbers if previous is not None else None,
            previous.local_date if previous is not None else None,
        ),
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(RESULTS.names, show_results))
