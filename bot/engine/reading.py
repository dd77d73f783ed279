"""Reading the inbox's updates as the dispatcher handles them: which lane an update takes,
what it is about (a poll, a voter), how it is parsed, and the outcomes of a step."""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update

from bot.engine import metrics
from storage.ballots import Answer
from storage.inbox import Waiting

log = logging.getLogger(__name__)

#: An update to handle: parsed, or a poll answer read straight from its JSON (see
#: Dispatcher's `read_answer`), applied without python-telegram-bot.
Handled = Update | Answer
#: A row claimed (or located) and its update (None: unreadable).
Taken = tuple[Waiting, Handled | None]



def utc_now() -> datetime:
    return datetime.now(UTC)



#: Updates by id, kept from their arrival until they are handled (else read again): parsed,
#: or as received (a dict), parsed when handled.
Parsed = MutableMapping[int, Update | dict[str, Any] | None]



def lane_of(update: Update) -> int | None:
    """The chat whose lane handles the update (None: handled with the poll answers). A
    group's last message, saying it became a supergroup, goes in the supergroup's lane."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id:
        return message.migrate_to_chat_id
    return update.effective_chat.id if update.effective_chat is not None else None


def kind_of(update: Handled | None) -> str:
    return "poll_answer" if isinstance(update, Answer) else metrics.update_type(update)


class HandledElsewhere(Exception):
    """The update's row is gone: another instance handled it (the unit is rolled back)."""


class HandlerFailed(Exception):
    """A handler raised: the update's unit is rolled back and the user told."""


class Chatless(enum.Enum):
    NONE = "none"  # nothing was due
    OURS = "ours"  # handled what was due, all of it received by this process
    MORE = "more"  # handled what was due, some of it read from the inbox


class Step(enum.Enum):
    HANDLED = "handled"  # an update committed (or found handled): look for the next
    EMPTY = "empty"  # nothing waits in the chat
    LATER = "later"  # the chat's next update is not due yet (postponed), or failed now


def read_update(raw: dict[str, Any], bot: Bot) -> Update | None:
    """An update as python-telegram-bot reads it; None (logged) if this version cannot read
    it: such an update is set aside, so it neither blocks the others nor comes back."""
    try:
        return Update.de_json(raw, bot)
    except Exception as exc:  # the error's type only: its message may quote what people wrote
        log.error(
            "update #%s could not be parsed (%s): set aside",
            raw.get("update_id"),
            type(exc).__name__,
        )
        return None


def transient(error: BaseException) -> bool:
    """Whether a handler's error may pass if the update is tried again: the database's, or a
    connection's (an OSError naming no file). A file error is a defect, reported at once."""
    return isinstance(error, SQLAlchemyError) or (
        isinstance(error, OSError) and error.filename is None
    )


def answered_poll(update: Handled | None) -> str | None:
    """The poll an answer or a poll's new state is about (Telegram sends a bot the states of
    its own polls only: an unknown one is being recorded)."""
    if update is None:
        return None
    if isinstance(update, Answer):
        return update.poll_id
    if update.poll_answer is not None:
        return update.poll_answer.poll_id
    return update.poll.id if update.poll is not None else None


def voter_of(update: Handled | None) -> tuple[str, int] | None:
    """(poll, voter) of a poll answer: the same voter's answers to a poll apply in order."""
    if isinstance(update, Answer):
        return update.poll_id, update.user_id
    answer = update.poll_answer if update is not None else None
    if answer is None:
        return None
    voter = answer.user or answer.voter_chat
    return (answer.poll_id, voter.id) if voter is not None else None


def first_answers(bodies_by_id: dict[int, str]) -> dict[tuple[str, int], int]:
    """(poll, voter) of the poll answers among these stored bodies, with the oldest id."""
    found: dict[tuple[str, int], int] = {}
    for update_id, body in sorted(bodies_by_id.items(), reverse=True):
        try:
            answer = json.loads(body).get("poll_answer") or {}
            voter = answer.get("user") or answer.get("voter_chat") or {}
            found[(str(answer["poll_id"]), int(voter["id"]))] = update_id
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return found
