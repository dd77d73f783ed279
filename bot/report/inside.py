"""The report inside Telegram, for a group's or a channel's administrators: the Mini App that
`/report` opens (WEBAPP_URL/app).

`/app` is a shell and `/app/app.js` its script; the script sends the Mini App's initData
(bot.report.miniapp) to `/app/report/<article>`, which answers with the report of the chats
that person administers now, as Telegram says (getChatAdministrators for a group, cached a
minute; the channel's administrators for a channel). Which chats are asked about: those
where the person voted or wrote, and the channels they linked (at most 50), not every chat of
the article: Telegram would be asked thousands of times.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from aiohttp import web
from telegram import Bot
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.core.i18n import using_language
from bot.core.localtime import Clock, zone_of
from bot.engine.admins import AdminsUnknown
from bot.engine.channels import ChannelUnknown
from bot.engine.services import Services
from bot.report.figures import ChatOrder, read_figures
from bot.report.groups import GroupsCache, groups_block
from bot.report.miniapp import (
    NO_ARTICLE,
    NO_CHATS,
    SCRIPT,
    UNSIGNED,
    app_refusal,
    authorization_data,
    init_data_user,
    shell_page,
)
from bot.report.page import article_page
from storage.report import chats_of_person


def refused(status: int, why: str) -> web.Response:
    return web.Response(status=status, text=app_refusal(why), content_type="text/html")


class InsideTelegram:
    """The Mini App's three addresses, for the report server."""

    def __init__(
        self,
        services: Services,
        clock: Clock,
        bot: Bot,
        language: Callable[[web.Request], str],
    ) -> None:
        self._services = services
        self._clock = clock
        self._bot = bot
        self._language = language  # ReportServer.language: ?lang=, Accept-Language, default
        self.groups: GroupsCache | None = None  # the report server's, when it runs one

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/app", self.shell)
        app.router.add_get("/app/app.js", self.script)
        app.router.add_get("/app/report/{article}", self.report)

    async def shell(self, request: web.Request) -> web.Response:
        with using_language(self._language(request)):
            return web.Response(text=shell_page(), content_type="text/html")

    async def script(self, request: web.Request) -> web.Response:
        return web.Response(text=SCRIPT, content_type="text/javascript")

    async def report(self, request: web.Request) -> web.Response:
        token = self._services.settings.bot_token.get_secret_value()
        data = authorization_data(request.headers.get("Authorization", ""))
        user = init_data_user(data, token, datetime.now(UTC)) if data else None
        with using_language(self._language(request)):
            if user is None:
                return refused(403, UNSIGNED)
            name = request.match_info["article"]
            library = self._services.library
            article = library.latest if name == "latest" else library.get(name)
            if article is None:
                return refused(404, NO_ARTICLE)
            zone = zone_of(None, self._services.settings)
            async with self._services.database.read() as session:
                candidates = await chats_of_person(session, user)
            mine = await self._administered(user, candidates)
            if not mine:
                return refused(403, NO_CHATS)
            async with self._services.database.read() as session:
                # The opinions are those of the reader's chats; the figures are all chats'.
                figures = await read_figures(session, article, zone, self._clock(), mine)
            shown = [chat for chat in figures.chats if chat.chat_id in mine]
            if not shown:
                return refused(403, NO_CHATS)
            mine_only = replace(figures, chats=shown)
            known = self.groups.latest(article) if self.groups is not None else None
            groups = groups_block(article, known, zone)
            page = article_page(
                mine_only, ChatOrder.VOTERS, zone, self._clock(), links=False, groups=groups
            )
        return web.Response(text=page, content_type="text/html")

    async def _administered(self, user: int, chats: list[tuple[int, str]]) -> set[int]:
        """Which of these chats the person administers now, as Telegram says."""
        mine = set()
        for chat_id, kind in chats:
            try:
                if await self._administers(user, chat_id, kind):
                    mine.add(chat_id)
            except TelegramError:
                continue  # gone, or the bot removed: not shown
        return mine

    async def _administers(self, user: int, chat_id: int, kind: str) -> bool:
        services = self._services
        if kind == ChatType.CHANNEL:
            try:
                facts = services.channels.facts(chat_id)
            except ChannelUnknown as missing:
                await missing.fetch(self._bot)
                facts = services.channels.facts(chat_id)
            return user in facts.admins
        try:
            return services.admins.check(chat_id, user)
        except AdminsUnknown:
            await services.admins.refresh(self._bot, chat_id)
            return services.admins.check(chat_id, user)
