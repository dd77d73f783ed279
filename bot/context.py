"""The typed context every handler and job receives (python-telegram-bot's ContextTypes).

`context.services` and `context.digests` replace look-ups on string keys in a `bot_data`
dict: the application's shared objects live in one `AgoraData`, published once at start
(bot.app), and typed all the way to the handlers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

if TYPE_CHECKING:
    from bot.articles.announcements import Announcer
    from bot.articles.reload import ArticleReloader
    from bot.digests.schedule import DigestScheduler
    from bot.engine.admission import Admission
    from bot.engine.inbox import Inbox
    from bot.engine.services import Services
    from bot.leadership import Leadership

T = TypeVar("T")


def _published(value: T | None, what: str) -> T:
    if value is None:
        raise RuntimeError(f"{what} used before the application published it (bot.app)")
    return value


class AgoraData:
    """The application's `bot_data`: its shared objects, set once by bot.app at start."""

    __slots__ = (
        "_admission", "_announcer", "_digests", "_inbox", "_leadership", "_reloader", "_services"
    )

    def __init__(self) -> None:
        self._services: Services | None = None
        self._digests: DigestScheduler | None = None
        self._announcer: Announcer | None = None
        self._reloader: ArticleReloader | None = None
        self._leadership: Leadership | None = None
        self._inbox: Inbox | None = None
        self._admission: Admission | None = None

    @property
    def services(self) -> Services:
        return _published(self._services, "services")

    @services.setter
    def services(self, value: Services) -> None:
        self._services = value

    @property
    def digests(self) -> DigestScheduler:
        return _published(self._digests, "the digest schedule")

    @digests.setter
    def digests(self, value: DigestScheduler) -> None:
        self._digests = value

    @property
    def announcer(self) -> Announcer:
        return _published(self._announcer, "the announcer")

    @announcer.setter
    def announcer(self, value: Announcer) -> None:
        self._announcer = value

    @property
    def reloader(self) -> ArticleReloader:
        return _published(self._reloader, "the article reloader")

    @reloader.setter
    def reloader(self, value: ArticleReloader) -> None:
        self._reloader = value

    @property
    def inbox(self) -> Inbox:
        return _published(self._inbox, "the inbox")

    @inbox.setter
    def inbox(self, value: Inbox) -> None:
        self._inbox = value

    @property
    def leadership(self) -> Leadership:
        return _published(self._leadership, "the leadership")

    @leadership.setter
    def leadership(self, value: Leadership) -> None:
        self._leadership = value

    @property
    def admission(self) -> Admission:
        return _published(self._admission, "admission control")

    @admission.setter
    def admission(self, value: Admission) -> None:
        self._admission = value


class AgoraContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], AgoraData]):
    """What a handler receives besides the update."""

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def digests(self) -> DigestScheduler:
        return self.bot_data.digests


CONTEXT_TYPES = ContextTypes(context=AgoraContext, bot_data=AgoraData)

AgoraApp = Application[
    ExtBot[None], AgoraContext, dict[Any, Any], dict[Any, Any], AgoraData, JobQueue[AgoraContext]
]
