"""/results [/resultats]: each question's counts, shares and bars, here and in all chats."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ContextTypes

from bot.commands import POLL, RESULTS
from bot.content import Article, Question
from bot.formatting import bar, escape, voters_text
from bot.i18n import _, current_language, format_number, format_share
from bot.transaction import with_session
from bot.verdicts import verdict
from handlers.common import command, current_article, reply_blocks, stored_chat
from storage.queries import QuestionTally, article_results


def share_text(tally: QuestionTally, index: int) -> str:
    return f"{format_share(tally.share(index))} ({format_number(tally.votes.get(index, 0))})"


def question_block(
    number: int, question: Question, here: QuestionTally, everywhere: QuestionTally, private: bool
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
            "<i>{}</i>".format(_("Several answers allowed: shares add up to more than 100%."))
        )
    for index, option in enumerate(question.options[language]):
        share = here.share(index)
        lines.append(escape(option))
        lines.append(
            "<code>{bar}</code> {here} · {everywhere}".format(
                bar=bar(share),
                here=share_text(here, index),
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
    for number, question in enumerate(article.questions, 1):
        blocks.append(
            question_block(
                number,
                question,
                here.get(question.key, QuestionTally()),
                everywhere.get(question.key, QuestionTally()),
                private,
            )
        )
    return blocks


@with_session
async def show_results(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Send the results of the chat's article."""
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    article = current_article(context, chat)
    here = await article_results(session, article.id, chat.id)
    everywhere = await article_results(session, article.id)
    reply_blocks(
        update, results_blocks(article, here, everywhere, chat.type == ChatType.PRIVATE)
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(command(RESULTS.names, show_results))
