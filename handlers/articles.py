"""/articles and /article <id>|latest: list the articles; keep one, or follow the latest."""

from __future__ import annotations

from bot.context import AgoraApp
from bot.core.commands import ARTICLE, ARTICLES, LATEST_WORDS, PUBLISH, SUMMARY
from bot.core.content import Article
from bot.core.formatting import echo, escape
from bot.core.i18n import _, format_long_date
from bot.core.refusals import Unclear
from handlers.common import command
from handlers.request import Request, channel_handle, channel_title, handles


@handles(ARTICLES)
async def list_articles(request: Request) -> None:
    """List the available articles (not the retired ones), marking the chat's current one."""
    language, current = request.language, request.article
    lines = ["📚 <b>{}</b>".format(_("Articles"))]
    for article in request.context.services.library.listed:
        marker = " ✅ <i>{}</i>".format(_("current")) if article.id == current.id else ""
        title, day = escape(article.title[language]), format_long_date(article.source_date)
        lines.append(f"• <code>{escape(article.id)}</code> — {title} ({day}){marker}")
    lines += [
        "",
        _("Choose one with /{article} {argument}.").format(
            article=ARTICLE.name(language), argument=escape(_(ARTICLE.arguments))
        ),
    ]
    request.reply("\n".join(lines))


def channel_article(request: Request, article: Article) -> str:
    """What the channel's administrator is told of its new article."""
    channel = request.chat
    return _(
        "{channel} now discusses “{title}”. Nothing is posted there until you publish it: "
        "/{publish} {name}"
    ).format(
        channel=channel_title(channel),
        title=escape(article.title[request.language]),
        publish=PUBLISH.name(request.language),
        name=escape(channel_handle(channel)),
    )


@handles(ARTICLE)
async def choose_article(request: Request) -> None:
    """Set the chat's current article (admins only in groups)."""
    language, chat = request.language, request.chat
    if not request.args:
        request.reply(
            _(
                "The current article is “{title}”. To change it: /{article} {argument} "
                "(see /{articles})."
            ).format(
                title=escape(request.article.title[language]),
                article=ARTICLE.name(language),
                argument=escape(_(ARTICLE.arguments)),
                articles=ARTICLES.name(language),
            ),
        )
        return
    request.require_admin()
    library = request.context.services.library
    wanted = request.args[0].strip().lower()
    if wanted in LATEST_WORDS:
        latest = library.latest
        if latest is None:
            raise Unclear(_("There is no article to follow: every article is retired."))
        chat.follows_latest = True
        if request.on_channel:
            request.reply(channel_article(request, latest))
            return
        request.reply(
            _(
                "This chat now follows the latest article, “{title}”; it will be told when a "
                "new one comes. Read the summary with /{summary}."
            ).format(title=escape(latest.title[language]), summary=SUMMARY.name(language)),
        )
        return
    article = library.get(wanted)
    if article is None:
        raise Unclear(
            _("There is no article “{id}”. See the list with /{articles}.").format(
                id=echo(request.args[0], 64), articles=ARTICLES.name(language)
            )
        )
    chat.article_id = article.id
    chat.follows_latest = False
    if request.on_channel:
        request.reply(channel_article(request, article))
        return
    request.reply(
        _("This chat now discusses “{title}”. Read the summary with /{summary}.").format(
            title=escape(article.title[language]), summary=SUMMARY.name(language)
        ),
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(ARTICLES.names, list_articles))
    app.add_handler(command(ARTICLE.names, choose_article))
