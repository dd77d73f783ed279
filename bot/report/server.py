"""The report's web server, in the bot's own event loop (aiohttp, as the webhook server):
GET /report (the articles), /report/<article> and /report/<article>/results.csv, for whoever
holds REPORT_TOKEN. Nothing here changes anything: GET only, anything else 405.

The token opens the report three ways: `?token=` once (answered with an HttpOnly,
SameSite=Strict cookie and a redirect to the same address without it, so that it leaves the
address bar and the history), `Authorization: Bearer`, or that cookie. Compared in constant
time; no token is 401, a wrong one 403. Requests are not logged: a token in an address
would be written to the logs with it. With WEBAPP_URL, /app is the same report inside
Telegram, opened by a chat's administrators (bot.report.inside): Telegram's initData opens
it instead of the token."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web
from telegram import Bot

from bot.core.i18n import LANGUAGES, normalize_language, using_language
from bot.core.localtime import Clock, zone_of
from bot.digests.chart import ALL_CHATS, chart_spec, draw_chart
from bot.digests.text import to_numbers
from bot.engine.services import Services
from bot.report.downloads import report_csv
from bot.report.figures import ChatOrder, Figures, read_figures
from bot.report.groups import GroupsCache, groups_block
from bot.report.inside import InsideTelegram
from bot.report.layout import index_page, refusal_page
from bot.report.miniapp import APP_POLICY
from bot.report.page import article_page
from bot.report.style import CONTENT_SECURITY_POLICY
from storage.report import voters_per_article

log = logging.getLogger(__name__)

COOKIE = "agora_report"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Authorization, Cookie",
}


def cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token (a new token closes old cookies), not
    the token itself."""
    return hmac.new(token.encode(), b"agora-report-cookie", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def accepted_language(header: str) -> str | None:
    """The first supported language of an Accept-Language header, by preference."""
    ranked = []
    for position, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        ranked.append((-weight, position, code.strip()))
    for weight, _, code in sorted(ranked):
        if weight < 0 and normalize_language(code) is not None:
            return normalize_language(code)
    return None


class ReportServer:
    """The report on a port, from `listen()` until `close()`."""

    def __init__(self, services: Services, clock: Clock, bot: Bot | None = None) -> None:
        self._services = services
        self._clock = clock
        self._bot = bot
        token = services.settings.report_token
        assert token is not None  # the settings require it with REPORT_PORT
        self._token = token.get_secret_value()
        self._cookie = cookie_value(self._token)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.groups = GroupsCache(services.database, clock)  # the page's and the Mini App's

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/report", self._index)
        app.router.add_get("/report/", self._index)
        app.router.add_get("/report/{article}", self._article)
        app.router.add_get("/report/{article}/results.csv", self._csv)
        app.router.add_get("/report/{article}/chart.png", self._chart)
        if self._services.settings.webapp_url is not None and self._bot is not None:
            inside = InsideTelegram(self._services, self._clock, self._bot, self.language)
            inside.groups = self.groups
            inside.routes(app)
        return app

    async def listen(self, host: str, port: int) -> None:
        """Accept requests on host:port (port 0: any free port, then in `port`)."""
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = next(address for address in runner.addresses if isinstance(address, tuple))
        self.port = int(bound[1])
        log.info("report on http://%s:%d/report", host, self.port)

    async def close(self) -> None:
        await self.groups.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def language(self, request: web.Request) -> str:
        """?lang=, else the browser's Accept-Language, else DEFAULT_LANGUAGE."""
        asked = request.query.get("lang", "")
        if asked in LANGUAGES:
            return asked
        found = accepted_language(request.headers.get("Accept-Language", ""))
        return found or self._services.settings.default_language

    def _refuse(self, request: web.Request, status: int) -> web.Response:
        with using_language(self.language(request)):
            page = refusal_page(status)
        response = web.Response(status=status, text=page, content_type="text/html")
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="Agora report"'
        return response

    def _admitted(self, request: web.Request) -> web.StreamResponse | None:
        """None if the request holds the token; else the answer that refuses or redirects."""
        if "token" in request.query:
            if not _same(request.query["token"], self._token):
                return self._refuse(request, 403)
            rest = [(k, v) for k, v in request.query.items() if k != "token"]
            # Only to the report: "//elsewhere" would leave the site.
            path = request.path if request.path.startswith("/report") else "/report"
            location = path + ("?" + urlencode(rest) if rest else "")
            response = web.Response(status=303, headers={"Location": location})
            secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
            response.set_cookie(
                COOKIE, self._cookie, path="/report", httponly=True, samesite="Strict",
                secure=secure,
            )
            return response
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given:
            return None if _same(given.strip(), self._token) else self._refuse(request, 403)
        cookie = request.cookies.get(COOKIE)
        if cookie:
            return None if _same(cookie, self._cookie) else self._refuse(request, 403)
        return self._refuse(request, 401)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Only GET and HEAD; the token first; the same safety headers on every answer."""
        response: web.StreamResponse
        inside = request.path == "/app" or request.path.startswith("/app/")
        if request.method not in ("GET", "HEAD"):
            response = web.Response(status=405, text="GET only\n", headers={"Allow": "GET, HEAD"})
        elif inside:  # the Mini App: Telegram's initData instead of the token
            response = await self._answer(request, handler)
        else:
            response = self._admitted(request) or await self._answer(request, handler)
        response.headers.update(HEADERS)
        if inside:  # shown in a frame by Telegram's web clients, and with its script
            del response.headers["X-Frame-Options"]
            response.headers["Content-Security-Policy"] = APP_POLICY
        return response

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            return self._refuse(request, 404)
        except web.HTTPMethodNotAllowed:
            return self._refuse(request, 405)

    async def _index(self, request: web.Request) -> web.Response:
        async with self._services.database.read() as session:
            voters = await voters_per_article(session)
        with using_language(self.language(request)):
            page = index_page(self._services.library.articles, voters)
        return web.Response(text=page, content_type="text/html")

    async def _read(self, request: web.Request) -> Figures:
        """The figures of the article the address names (404 for an unknown one)."""
        article = self._services.library.get(request.match_info["article"])
        if article is None:
            raise web.HTTPNotFound
        zone = zone_of(None, self._services.settings)
        async with self._services.database.read() as session:
            return await read_figures(session, article, zone, self._clock())

    async def _article(self, request: web.Request) -> web.Response:
        figures = await self._read(request)
        zone = zone_of(None, self._services.settings)
        with using_language(self.language(request)):
            groups = groups_block(figures.article, self.groups.latest(figures.article), zone)
            order = ChatOrder.of(request.query.get("sort"))
            page = article_page(figures, order, zone, self._clock(), groups=groups)
        return web.Response(text=page, content_type="text/html")

    async def _csv(self, request: web.Request) -> web.Response:
        figures = await self._read(request)
        zone = zone_of(None, self._services.settings)
        with using_language(self.language(request)):
            export = report_csv(figures, zone, self._clock())
        return web.Response(
            body=export.content,
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
        )

    async def _chart(self, request: web.Request) -> web.Response:
        """The digest's chart of every chat's figures together, as a PNG (?page=2 for the
        second page of a long article), drawn in a thread."""
        figures = await self._read(request)
        zone = zone_of(None, self._services.settings)
        with using_language(self.language(request)):
            numbers = to_numbers(figures.results, figures.results)
            day = self._clock().astimezone(zone).date()
            spec = chart_spec(figures.article, numbers, day, ALL_CHATS)
        pages = await asyncio.to_thread(draw_chart, spec)
        number = request.query.get("page", "1")
        if not number.isdigit() or not 1 <= int(number) <= len(pages):
            raise web.HTTPNotFound
        name = f"agora-{figures.article.id}-{number}.png"
        return web.Response(
            body=pages[int(number) - 1],
            content_type="image/png",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
