"""Handling updates from the inbox: each chat's in order, in its own short units of work.

bot.engine.inbox decides which chats have updates waiting; this module handles them. A chat's
oldest waiting update is handled in one unit of work (bot.engine.transaction) that takes the
chat's turn (across processes on PostgreSQL), deletes the update's inbox row and commits its
effects together: a row exists exactly while its update waits, so an update is handled once.
Poll answers and other updates without a chat are handled together in one unit (answers
applied in bulk, storage.ballots). An answer to a poll not recorded yet (its poll just went
out), or a state of such a poll, waits a little and is tried again; an update that keeps
failing, or whose handler raised, is set aside with the reason and its sender told.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.core.i18n import _, using_language
from bot.engine import metrics, outbox
from bot.engine.admins import AdminCache, AdminsUnknown
from bot.engine.transaction import UnitOfWork, Work
from storage.ballots import Answer
from storage.inbox import (
    Waiting,
    bodies,
    claim,
    claim_head,
    due_chatless,
    head_of_chat,
    known_polls,
    postpone,
    postponed_chatless,
    set_aside,
)
from storage.updates import handled_among, mark_handled, take_turn

log = logging.getLogger(__name__)

ATTEMPTS = 3  # tries of an update whose transaction failed, before it is postponed
GIVE_UP = 6  # failed tries after which an update is set aside and its sender told
CHATLESS_BATCH = 1_000  # poll answers applied in one unit
# An answer to a poll not recorded yet is tried again this often, for this long.
RECHECK = timedelta(seconds=2)
HOLD_UNKNOWN = timedelta(minutes=10)
KNOWN_POLLS = 100_000  # recorded polls' ids kept in memory (a poll is never unrecorded)

#: An update to handle: parsed, or a poll answer read straight from its JSON (see
#: Dispatcher's `read_answer`), applied without python-telegram-bot.
Handled = Update | Answer
#: A row claimed (or located) and its update (None: unreadable).
Taken = tuple[Waiting, Handled | None]


def _now() -> datetime:
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


def _kind(update: Handled | None) -> str:
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


def _answered_poll(update: Handled | None) -> str | None:
    """The poll an answer or a poll's new state is about (Telegram sends a bot the states of
    its own polls only: an unknown one is being recorded)."""
    if update is None:
        return None
    if isinstance(update, Answer):
        return update.poll_id
    if update.poll_answer is not None:
        return update.poll_answer.poll_id
    return update.poll.id if update.poll is not None else None


def _voter(update: Handled | None) -> tuple[str, int] | None:
    """(poll, voter) of a poll answer: the same voter's answers to a poll apply in order."""
    if isinstance(update, Answer):
        return update.poll_id, update.user_id
    answer = update.poll_answer if update is not None else None
    if answer is None:
        return None
    voter = answer.user or answer.voter_chat
    return (answer.poll_id, voter.id) if voter is not None else None


def _first_answers(bodies_by_id: dict[int, str]) -> dict[tuple[str, int], int]:
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


class Dispatcher:
    """Handles the inbox's updates, a chat's or the chatless ones, a step at a time."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        work: Work,
        admins: AdminCache,
        default_language: str,
        *,
        remember: bool = False,
        keep_personal_data: bool = False,
        read_answer: Callable[[dict[str, Any]], Answer | None] | None = None,
    ) -> None:
        self._app = app
        self._work = work
        self._admins = admins
        # Each update starts in the default language (the handlers then pick the chat's) and
        # leaves nothing behind for the next one.
        self._language = default_language
        #: Record handled updates (webhooks: Telegram may post an update again, to any
        #: instance, after its row is gone); long polling needs only the watermark.
        self.remember = remember
        #: Keep a set-aside update's body (names, texts): LOG_PERSONAL_DATA.
        self.keep_personal_data = keep_personal_data
        #: Reads a plain poll answer as received into the Answer its handler would queue
        #: (handlers.polls.answer_from_json), or None: such answers skip python-telegram-
        #: bot's parsing and dispatch, a vote storm's main cost.
        self._read_answer = read_answer
        self._known_polls: set[str] = set()
        # Whether chatless updates may wait in the inbox postponed (at start: perhaps).
        self._postponed_chatless = True

    def _read(self, kept: Update | dict[str, Any] | None) -> Update | None:
        return read_update(kept, self._app.bot) if isinstance(kept, dict) else kept

    def _read_chatless(self, kept: Update | dict[str, Any] | None) -> Handled | None:
        if isinstance(kept, dict) and self._read_answer is not None:
            answer = self._read_answer(kept)
            if answer is not None:
                return answer
        return self._read(kept)

    def _parse(self, body: str) -> Update | None:
        try:
            raw = json.loads(body)
        except ValueError:
            return None
        return read_update(raw, self._app.bot) if isinstance(raw, dict) else None

    async def _updates(self, waiting: list[Waiting], parsed: Parsed) -> dict[int, Handled | None]:
        """The chatless updates of these rows: kept since their arrival, or read again from
        their bodies (None: unreadable); a row gone meanwhile (another instance handled it)
        is left out."""
        missing = [w.update_id for w in waiting if w.update_id not in parsed]
        found = {
            w.update_id: self._read_chatless(parsed[w.update_id])
            for w in waiting
            if w.update_id in parsed
        }
        if missing:
            async with self._work.database.read() as session:
                for update_id, body in (await bodies(session, missing)).items():
                    try:
                        raw = json.loads(body)
                    except ValueError:
                        raw = None
                    found[update_id] = self._read_chatless(raw) if isinstance(raw, dict) else None
        return found

    # -- a chat's updates ------------------------------------------------------------------

    async def chat_step(self, chat: int, parsed: Parsed) -> Step:
        """Handle the chat's oldest waiting update, if it is due: its look-up and its claim
        are one statement, in the unit that handles it."""
        read: dict[int, Update | None] = {}

        async def take(session: AsyncSession) -> Taken | None:
            await take_turn(session, chat)
            taken = await claim_head(session, chat, _now())
            if taken is None:
                return None
            head, body = taken
            if head.update_id not in read:  # parsed on arrival, else read now from its body
                kept = parsed.get(head.update_id)
                read[head.update_id] = self._read(kept) if kept is not None else self._parse(body)
            return head, read[head.update_id]

        async def locate() -> tuple[Waiting, Update | None] | None:
            async with self._work.database.read() as session:
                found = await head_of_chat(session, chat)
            if found is None:
                return None
            head, body = found
            if head.not_before is not None and head.not_before.replace(tzinfo=UTC) > _now():
                return None  # postponed: not what failed
            kept = parsed.get(head.update_id)
            read[head.update_id] = self._read(kept) if kept is not None else self._parse(body)
            return head, read[head.update_id]

        with using_language(self._language):  # a failure is told in the chat's language
            head, settled = await self._attempts(take, locate)
        for update_id in read:  # taken, then handled (here or by another instance)
            if settled or head is None or update_id != head.update_id:
                parsed.pop(update_id, None)
        if head is None:
            return Step.EMPTY if settled else Step.LATER
        return Step.HANDLED if settled else Step.LATER

    async def _attempts(
        self,
        take: Callable[[AsyncSession], Awaitable[Taken | None]],
        locate: Callable[[], Awaitable[Taken | None]] | None = None,
    ) -> tuple[Waiting | None, bool]:
        """Handle one update in its own unit, which `take` opens (taking the chat's turn, if
        any, and claiming the update's row); the row taken (None: nothing was), and whether
        it is settled (False: it could not be committed, and is postponed). If even the
        claim failed, `locate` says which row it was for (to postpone it)."""
        head: Waiting | None = None
        update: Handled | None = None
        error: BaseException | None = None
        for attempt in range(ATTEMPTS):
            started = time.perf_counter()
            try:
                async with self._work.unit() as unit:
                    taken = await take(unit.session)
                    if taken is None:
                        return head, True  # nothing due, or handled meanwhile elsewhere
                    head, update = taken
                    if self.remember and await handled_among(unit.session, [head.update_id]):
                        return head, True  # a redelivery of an update handled before
                    if update is None:
                        raise HandlerFailed("unreadable")
                    await self._handle(unit, update)
                    failure = unit.failure
                    if failure is not None and (
                        isinstance(failure, AdminsUnknown) or transient(failure)
                    ):
                        raise failure
                    if failure is not None:
                        raise HandlerFailed from failure
                    if self.remember:
                        await mark_handled(unit.session, [head.update_id])
                metrics.UPDATE_SECONDS.observe(time.perf_counter() - started)
                self._count([update])
                return head, True
            except AdminsUnknown as missing:
                assert head is not None
                try:  # outside any transaction
                    await self._admins.refresh(self._app.bot, missing.chat_id)
                except TelegramError as exc:
                    return head, await self._report(head.update_id, update, exc)
            except HandlerFailed as failed:
                assert head is not None
                return head, await self._report(head.update_id, update, failed.__cause__ or failed)
            except (SQLAlchemyError, OSError) as exc:
                error = exc
                log.warning(
                    "update %s not committed (%s); trying again",
                    head.update_id if head is not None else "(not taken yet)",
                    type(exc).__name__,
                )
                await asyncio.sleep(0.1 * 2**attempt)
        if head is None and locate is not None:  # the claim itself failed: which row?
            try:
                located = await locate()
            except (SQLAlchemyError, OSError):
                located = None
            if located is not None:
                head, update = located
        if head is None:  # nothing known to postpone: the inbox's sweep tries again
            return None, False
        if head.attempts + 1 >= GIVE_UP:
            return head, await self._report(head.update_id, update, error)
        await self._postpone([head.update_id], head.attempts)
        return head, False

    async def _handle(self, unit: UnitOfWork, update: Handled) -> None:
        if isinstance(update, Answer):
            unit.answers.add(update)  # what handlers.polls.store_answer does
        else:
            await self._app.process_update(update)

    async def _postpone(self, update_ids: list[int], attempts: int) -> None:
        """Try again later (a growing delay); if even that cannot be written, the row stays
        as it is and the inbox's sweep finds it."""
        delay = timedelta(seconds=min(60.0, 2.0 * 2**attempts))
        self._postponed_chatless = True
        try:
            async with self._work.database.transaction() as session:
                await postpone(session, update_ids, datetime.now(UTC) + delay)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("could not postpone %d updates (%s)", len(update_ids), type(exc).__name__)

    async def _report(
        self, update_id: int, update: Handled | None, error: BaseException | None
    ) -> bool:
        """Log a failed update, tell its sender in their language, and set it aside."""
        if update is None:  # its reading was logged
            log.warning("update %d unreadable: set aside", update_id)
        else:
            log.error("update %d failed: set aside", update_id, exc_info=error)
        metrics.HANDLER_ERRORS.inc()
        metrics.UPDATES.labels(_kind(update)).inc()
        reason = "unreadable" if update is None else f"failed: {type(error).__name__}"
        try:
            async with self._work.unit() as unit:
                message = update.effective_message if isinstance(update, Update) else None
                if message is not None:
                    outbox.send_text(
                        message.chat_id,
                        _("Sorry, something went wrong. Please try again later."),
                        thread=message.message_thread_id if message.is_topic_message else None,
                    )
                if not await set_aside(
                    unit.session, update_id, reason, keep_body=self.keep_personal_data
                ):
                    raise HandledElsewhere
                if self.remember:
                    await mark_handled(unit.session, [update_id])
        except HandledElsewhere:
            return True  # another instance handled it meanwhile: nothing to tell
        except (SQLAlchemyError, OSError):
            log.exception("could not set aside update %d", update_id)
            return False
        return True

    # -- updates without a chat ------------------------------------------------------------

    async def chatless_step(self, parsed: Parsed, arrived: list[int] | None = None) -> Chatless:
        """Handle, in one unit, the poll answers (and the like) that `arrived` here, oldest
        first, or else those the inbox has due."""
        now = datetime.now(UTC)
        if arrived:  # stored by this process a moment ago: nothing to look up
            waiting = [Waiting(update_id, now, 0, None) for update_id in arrived]
            updates = {
                update_id: self._read_chatless(parsed.get(update_id)) for update_id in arrived
            }
        else:
            async with self._work.database.read() as session:
                waiting = await due_chatless(session, now, CHATLESS_BATCH)
            if not waiting:
                return Chatless.NONE
            updates = await self._updates(waiting, parsed)
            waiting = [w for w in waiting if w.update_id in updates]  # others are done
            if not waiting:
                return Chatless.MORE
        # An answer to a poll that is not recorded yet (its sendPoll has just answered, or
        # another instance is recording it) waits; given up after a while.
        polls = {p for p in map(_answered_poll, updates.values()) if p is not None}
        known = polls & self._known_polls
        if polls - known:
            async with self._work.database.read() as session:
                known |= await known_polls(session, polls - known)
            if len(self._known_polls) > KNOWN_POLLS:
                self._known_polls.clear()
            self._known_polls |= known
        outcome = Chatless.OURS if all(w.update_id in parsed for w in waiting) else Chatless.MORE
        # A voter's answer waits behind their earlier answer to the same poll, if that one
        # waits (its poll was not recorded yet, or it failed): applied after it, the earlier
        # answer would replace the later one. Looked up only while some may wait.
        waits: dict[tuple[str, int], int] = {}
        if self._postponed_chatless:
            async with self._work.database.read() as session:
                later = await postponed_chatless(session, now, max(w.update_id for w in waiting))
            waits = _first_answers(later)
            self._postponed_chatless = bool(later)

        def must_wait(w: Waiting) -> bool:
            update = updates[w.update_id]
            poll, voter = _answered_poll(update), _voter(update)
            return poll is not None and (
                poll not in known
                or (voter is not None and waits.get(voter, w.update_id) < w.update_id)
            )

        hold = [
            w
            for w in waiting
            if must_wait(w) and w.received_at.replace(tzinfo=UTC) > now - HOLD_UNKNOWN
        ]
        held = {w.update_id for w in hold}
        run = [w for w in waiting if w.update_id not in held]
        for w in [w for w in run if updates[w.update_id] is None]:  # read only now
            if await self._report(w.update_id, None, None):
                parsed.pop(w.update_id, None)
        run = [w for w in run if updates[w.update_id] is not None]
        with using_language(self._language):
            if await self._bulk(run, updates, hold, now):
                for w in run:
                    parsed.pop(w.update_id, None)
            else:
                stuck: set[tuple[str, int]] = set()
                for w in run:
                    voter = _voter(updates[w.update_id])
                    if voter is not None and voter in stuck:
                        continue  # behind the voter's earlier answer, which waits
                    if await self._one(w, updates[w.update_id]):
                        parsed.pop(w.update_id, None)
                    elif voter is not None:
                        stuck.add(voter)
        for w in hold:
            parsed.pop(w.update_id, None)  # read again when due
        return outcome

    async def _one(self, waiting: Waiting, update: Handled | None) -> bool:
        """A chatless update in a unit of its own (its batch failed); False if postponed."""

        async def take(session: AsyncSession) -> Taken | None:
            return (waiting, update) if await claim(session, [waiting.update_id]) else None

        _, settled = await self._attempts(take)
        return settled

    async def _bulk(
        self,
        run: list[Waiting],
        updates: dict[int, Handled | None],
        hold: list[Waiting],
        now: datetime,
    ) -> bool:
        """The updates in one unit, the held ones postponed in it; False if any failed (the
        unit is rolled back and they are handled one by one)."""
        try:
            async with self._work.unit() as unit:
                claimed = await claim(unit.session, [w.update_id for w in run])
                if self.remember:
                    claimed -= await handled_among(unit.session, list(claimed))
                done = [updates[w.update_id] for w in run if w.update_id in claimed]
                if None in done:
                    raise HandlerFailed("unreadable")
                for update in done:
                    assert update is not None
                    await self._handle(unit, update)
                    if unit.failure is not None:
                        raise HandlerFailed from unit.failure
                if self.remember:
                    await mark_handled(unit.session, list(claimed))
                await postpone(unit.session, [w.update_id for w in hold], now + RECHECK)
                if hold:
                    self._postponed_chatless = True
        except (HandlerFailed, SQLAlchemyError, OSError) as exc:
            if run:
                log.warning(
                    "batch of %d updates failed (%s): one by one", len(run), type(exc).__name__
                )
            else:
                log.warning("could not postpone %d answers (%s)", len(hold), type(exc).__name__)
            return False
        self._count(done)
        for w in hold:
            if w.attempts == 0:
                log.info("answer #%d waits for its poll to be recorded", w.update_id)
        return True

    @staticmethod
    def _count(updates: list[Handled | None]) -> None:
        kinds = Counter(_kind(update) for update in updates)
        for kind, n in kinds.items():
            metrics.UPDATES.labels(kind).inc(n)
        if kinds["poll_answer"]:
            metrics.VOTES.inc(kinds["poll_answer"])
