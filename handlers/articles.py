"""/articles and /article <id>|latest: list the articles; keep one, or follow the latest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import ARTICLE, ARTICLES, LATEST_WORDS, SUMMARY
from bot.core.formatting import echo, escape
from bot.core.i18n import _, current_language, format_long_date
from bot.engine.transaction import with_session
from handlers.common import command, current_article, is_admin, reply, stored_chat


@with_session
async def list_articles(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """List the available articles (not the retired ones), marking the chat's current one."""
    assert update.effective_chat is not None
    language = current_language()
    chat = await stored_chat(session, update.effective_chat)
    current = current_article(context, chat)
    lines = ["📚 <b>{}</b>".format(_("Articles"))]
    for article in context.services.library.listed:
        marker = " ✅ <i>{}</i>".format(_("current")) if article.id == current.id else ""
        title, day = escape(article.title[language]), format_long_date(article.source_date)
        lines.append(f"• <code>{escape(article.id)}</code> — {title} ({day}){marker}")
    lines += [
        "",
        _("Choose one with /{article} {argument}.").format(
            article=ARTICLE.name(language), argument=escape(_(ARTICLE.arguments))
        ),
    ]
    reply(update, "\n".join(lines))


@with_session
async def choose_article(
    session: AsyncSession, update: Update, context: AgoraContext
) -> None:
    """Set the chat's current article (admins only in groups)."""
    assert update.effective_chat is not None
    language = current_language()
    chat = await stored_chat(session, update.effective_chat)
    if not context.args:
        reply(
            update,
            _(
                "The current article is “{title}”. To change it: /{article} {argument} "
                "(see /{articles})."
            ).format(
                title=escape(current_article(context, chat).title[language]),
                article=ARTICLE.name(language),
                argument=escape(_(ARTICLE.arguments)),
                articles=ARTICLES.name(language),
            ),
        )
        return
    if not is_admin(update, context):
        reply(
            update, _("Only the group's administrators can change the article: ask one of them.")
        )
        return
    library = context.services.library
    wanted = context.args[0].strip().lower()
    if wanted in LATEST_WORDS:
        latest = library.latest
        if latest is None:
            reply(update, _("There is no article to follow: every article is retired."))
            return
        chat.follows_latest = True
        reply(
            update,
            _(
                "This chat now follows the latest article, “{title}”; it will be told when a "
                "new one comes. Read the summary with /{summary}."
            ).format(title=escape(latest.title[language]), summary=SUMMARY.name(language)),
        )
        return
    article = library.get(wanted)
    if article is None:
        reply(
            update,
            _("There is no article “{id}”. See the list with /{articles}.").format(
                id=echo(context.args[0], 64), articles=ARTICLES.name(language)
            ),
        )
        return
    chat.article_id = article.id
    chat.follows_latest = False
    reply(
        update,
        _("This chat now discusses “{title}”. Read the summary with /{summary}.").format(
            title=escape(article.title[language]), summary=SUMMARY.name(language)
        ),
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(ARTICLES.names, list_articles))
    app.add_handler(command(ARTICLE.names, choose_article))
