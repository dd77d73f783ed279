"""Refusals: what the bot declines to do, raised where the rule is and told by the handler
wrapper (handlers/request.py) in the user's language.

A refusal is not a failure: the update's unit of work still commits, with the answer that
tells the refusal queued in it (a rule is checked before anything is written). Each kind
words itself when it is told (`text`), in the language of the moment and the chat's time
zone; a button press shows it as a notice, or as an alert for those that say so.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.i18n import _, gettext


class Refusal(Exception):
    """A request the bot declines; its text says why, and what to do instead."""

    alert = False  # on a button press: an alert the person must close, not a passing notice

    def text(self, zone: ZoneInfo) -> str:
        raise NotImplementedError


class TooSoon(Refusal):
    """A limit of how often: the same request is possible again at `again`."""

    def __init__(self, again: datetime) -> None:
        super().__init__(again)
        self.again = again


class Unclear(Refusal):
    """The request cannot be made sense of, or asks for something that is not there: the
    text, translated where it was raised, says how to ask."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.told = text

    def text(self, zone: ZoneInfo) -> str:
        return self.told


class NotAdmin(Refusal):
    """Only the group's administrators may do this (the command registry words it)."""

    alert = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message  # a message id, translated when told

    def text(self, zone: ZoneInfo) -> str:
        return gettext(self.message)


class NotYours(Refusal):
    """A button that only the person who asked for it may press."""

    alert = True

    def text(self, zone: ZoneInfo) -> str:
        return _("Only the person who asked can answer this.")


class StaleButton(Refusal):
    """A button of another version, outdated, or forged: pressing it changes nothing."""

    def text(self, zone: ZoneInfo) -> str:
        return _("This button is no longer valid.")
