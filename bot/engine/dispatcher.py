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

import json
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.core.i18n import using_language
from bot.engine.handling import Handling
from bot.engine.reading import (
    Chatless,
    Handled,
    HandlerFailed,
    Parsed,
    Step,
    Taken,
    answered_poll,
    first_answers,
    utc_now,
    voter_of,
)
from storage.claims import (
    bodies,
    claim,
    claim_head,
    due_chatless,
    head_of_chat,
    known_polls,
    postpone,
    postponed_chatless,
)
from storage.inbox import Waiting
from storage.updates import handled_among, mark_handled, take_turn

log = logging.getLogger(__name__)

CHATLESS_BATCH = 1_000  # poll answers applied in one unit
# An answer to a poll not recorded yet is tried again this often, for this long.
RECHECK = timedelta(seconds=2)
HOLD_UNKNOWN = timedelta(minutes=10)
KNOWN_POLLS = 100_000  # recorded polls' ids kept in memory (a poll is never unrecorded)


class Dispatcher(Handling):
    """Handles the inbox's updates, a chat's or the chatless ones, a step at a time."""

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
            taken = await claim_head(session, chat, utc_now())
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
            if head.not_before is not None and head.not_before.replace(tzinfo=UTC) > utc_now():
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
        known = await self._recorded(
            {p for p in map(answered_poll, updates.values()) if p is not None}
        )
        outcome = Chatless.OURS if all(w.update_id in parsed for w in waiting) else Chatless.MORE
        hold = await self._held(waiting, updates, known, now)
        held = {w.update_id for w in hold}
        run = [w for w in waiting if w.update_id not in held]
        for w in [w for w in run if updates[w.update_id] is None]:  # read only now
            if await self._report(w.update_id, None, None):
                parsed.pop(w.update_id, None)
        run = [w for w in run if updates[w.update_id] is not None]
        with using_language(self._language):
            await self._run(run, updates, hold, parsed, now)
        for w in hold:
            parsed.pop(w.update_id, None)  # read again when due
        return outcome

    async def _recorded(self, polls: set[str]) -> set[str]:
        """Which of these polls are recorded. An answer to a poll that is not recorded yet
        (its sendPoll has just answered, or another instance is recording it) waits; given
        up after a while."""
        known = polls & self._known_polls
        if polls - known:
            async with self._work.database.read() as session:
                known |= await known_polls(session, polls - known)
            if len(self._known_polls) > KNOWN_POLLS:
                self._known_polls.clear()
            self._known_polls |= known
        return known

    async def _held(
        self,
        waiting: list[Waiting],
        updates: dict[int, Handled | None],
        known: set[str],
        now: datetime,
    ) -> list[Waiting]:
        """The updates that wait: answers to polls not recorded yet (for HOLD_UNKNOWN at
        most), and a voter's answer behind their earlier answer to the same poll, if that one
        waits (its poll was not recorded yet, or it failed): applied after it, the earlier
        answer would replace the later one. Looked up only while some may wait."""
        waits: dict[tuple[str, int], int] = {}
        if self._postponed_chatless:
            async with self._work.database.read() as session:
                later = await postponed_chatless(session, now, max(w.update_id for w in waiting))
            waits = first_answers(later)
            self._postponed_chatless = bool(later)

        def must_wait(w: Waiting) -> bool:
            update = updates[w.update_id]
            poll, voter = answered_poll(update), voter_of(update)
            return poll is not None and (
                poll not in known
                or (voter is not None and waits.get(voter, w.update_id) < w.update_id)
            )

        return [
            w
            for w in waiting
            if must_wait(w) and w.received_at.replace(tzinfo=UTC) > now - HOLD_UNKNOWN
        ]

    async def _run(
        self,
        run: list[Waiting],
        updates: dict[int, Handled | None],
        hold: list[Waiting],
        parsed: Parsed,
        now: datetime,
    ) -> None:
        """The updates in one unit; if that fails, one by one, a voter's later answers
        waiting behind an earlier one that could not be committed."""
        if await self._bulk(run, updates, hold, now):
            for w in run:
                parsed.pop(w.update_id, None)
            return
        stuck: set[tuple[str, int]] = set()
        for w in run:
            voter = voter_of(updates[w.update_id])
            if voter is not None and voter in stuck:
                continue  # behind the voter's earlier answer, which waits
            if await self._one(w, updates[w.update_id]):
                parsed.pop(w.update_id, None)
            elif voter is not None:
                stuck.add(voter)

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
