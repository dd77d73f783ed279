"""/summary [/resume]: the current article's summary in the chat's language."""

from __future__ import annotations

from bot.context import AgoraApp
from bot.core.commands import POLL, RESULTS, SUMMARY
from bot.core.content import Article
from bot.core.formatting import escape
from bot.core.i18n import _, current_language, format_long_date
from bot.engine.effects import RecordSummary
from handlers.common import command
from handlers.request import Request, handles


def summary_text(article: Article, invitation: str | None = None) -> str:
    """The article's title, date and summary, then what to do with it (`invitation`; by
    default, how a group replies, polls and sees the results)."""
    language = current_language()
    if invitation is None:
        invitation = _(
            "Reply to this message to give your opinion · Polls: /{poll} · Results: /{results}"
        ).format(poll=POLL.name(language), results=RESULTS.name(language))
    return "\n\n".join(
        [
            f"📰 <b>{escape(article.title[language])}</b>",
            "<i>{}</i>".format(
                escape(_("Events up to {date}").format(date=format_long_date(article.source_date)))
            ),
            escape(article.summary[language]),
            invitation,
        ]
    )


@handles(SUMMARY)
async def show_summary(request: Request) -> None:
    """Send the summary of the chat's current article."""
    article = request.article
    # Once sent, the message is recorded: replies to it become opinions on the article.
    request.reply(summary_text(article), effect=RecordSummary(article.id))


def register(app: AgoraApp) -> None:
    app.add_handler(command(SUMMARY.names, show_summary))
