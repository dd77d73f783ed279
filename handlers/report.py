"""/report [/rapport] in a private chat: the button that opens the report inside Telegram
(a Mini App, bot.report.inside), for the chats the person administers."""

from __future__ import annotations

from urllib.parse import urlencode

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.context import AgoraApp
from bot.core.commands import REPORT
from bot.core.formatting import escape
from bot.core.i18n import _
from bot.core.refusals import Unclear
from handlers.common import command
from handlers.request import Request, handles


@handles(REPORT)
async def report_command(request: Request) -> None:
    """The Mini App's button, in private; in a group, where to ask."""
    if not request.private:
        raise Unclear(
            _("Ask me in private: /{report} opens the report of the chats you administer.")
            .format(report=REPORT.name(request.language))
        )
    origin = request.context.services.settings.webapp_url
    if origin is None:
        raise Unclear(
            _("The report inside Telegram is not set up for this bot: its operator sets "
              "WEBAPP_URL.")
        )
    query = urlencode({"article": request.article.id, "lang": request.language})
    button = InlineKeyboardButton(
        _("📊 Open the report"), web_app=WebAppInfo(url=f"{origin}/app?{query}")
    )
    request.reply(
        _("The report of “{title}” for the groups and channels you administer: the figures "
          "across chats, each of your chats' participation, the latest opinions.").format(
            title=escape(request.article.title[request.language])
        ),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(REPORT.names, report_command))
