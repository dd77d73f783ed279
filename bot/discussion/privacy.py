"""Copies of a person in the outbox, blanked when they ask to be forgotten: calls already made
(or dropped) lose what they said; calls still waiting lose the person's names and texts, and a
file that holds them is not sent at all."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.formatting import escape
from bot.digests.text import excerpt
from bot.engine.effects import FallbackText, from_json, to_json
from bot.engine.sending.outcomes import drop
from storage.models import OutboxMessage
from storage.outbox import pending_rows, redact_done

BLANK = "…"  # what a waiting message shows where the person's name or text was


@dataclass(frozen=True, slots=True)
class Traces:
    """What identifies a person in a message: the names they went by, the texts they wrote."""

    names: frozenset[str]
    texts: frozenset[str]

    def in_messages(self) -> re.Pattern[str] | None:
        """Every form they take in a message's HTML: as written, escaped, cut to an excerpt."""
        forms = {*self.names, *map(escape, self.names)}
        for text in self.texts:
            forms |= {text, escape(text), excerpt(text), escape(excerpt(text))}
        return _whole(forms)

    def in_files(self) -> re.Pattern[str] | None:
        """Every form they take in a CSV cell (quotes doubled)."""
        return _whole({*self.names, *self.texts, *(t.replace('"', '""') for t in self.texts)})


def _whole(forms: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern for any of the forms, longest first, not inside a longer word ("Max" is not
    found in "Maxime")."""
    kept = sorted({form for form in forms if form.strip()}, key=len, reverse=True)
    if not kept:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, kept)) + r")(?!\w)")


def blank(value: Any, pattern: re.Pattern[str]) -> tuple[Any, bool]:
    """The value (a JSON document) with every match in its strings replaced; whether any was."""
    if isinstance(value, str):
        blanked = pattern.sub(BLANK, value)
        return blanked, blanked != value
    if isinstance(value, dict):
        pairs = {key: blank(item, pattern) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(
            hit for _, hit in pairs.values()
        )
    if isinstance(value, list):
        items = [blank(item, pattern) for item in value]
        return [item for item, _ in items], any(hit for _, hit in items)
    return value, False


async def forget_in_outbox(session: AsyncSession, traces: Traces, now: datetime) -> int:
    """Blank the person in the outbox (see the module's docstring); returns how many waiting
    calls changed. Does not commit."""
    in_messages, in_files = traces.in_messages(), traces.in_files()
    changed = 0
    if in_messages is not None and in_files is not None:
        unsendable: list[OutboxMessage] = []
        for row in await pending_rows(session):
            if row.attachment is not None and in_files.search(
                row.attachment.decode("utf-8", "replace")
            ):
                unsendable.append(row)
            elif _blank_row(row, in_messages):
                changed += 1
        await session.flush()
        await drop(session, unsendable, now)
        changed += len(unsendable)
    await redact_done(session)
    return changed


def _blank_row(row: OutboxMessage, pattern: re.Pattern[str]) -> bool:
    """Blank the person in what a waiting call will say: its parameters, and the text it
    sends if refused (the other effects hold ids and keys, not texts); whether it changed."""
    payload, in_payload = blank(row.payload, pattern)
    effect = from_json(row.effect)
    in_effect = False
    if isinstance(effect, FallbackText):
        fallback, in_effect = blank(effect.payload, pattern)
        if in_effect:
            row.effect = to_json(FallbackText(fallback))
    if in_payload:
        row.payload = payload
    return in_payload or in_effect
