"""What a queued call must record once Telegram has answered, or do if it is refused: a typed
union (`Effect`), and its JSON form in the outbox row (`to_json`, `from_json`).

The JSON form is the one earlier versions wrote (a "kind" tag; a reaction's fallback under
"fallback"), so that rows queued before an upgrade are sent and recorded as before, and
instances of either version read each other's rows. The reader is tolerant: keys it does not
know are ignored (the "messages" that storage adds for an album), and a shape it cannot read
is logged and read as no effect, never as an error that would keep the row from going out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, assert_never

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordPoll:
    """Once the poll is posted: its ids, so that its answers count (storage.polls)."""

    article_id: str
    question_key: str
    language: str
    anonymous: bool
    multiple: bool
    round: int = 1  # the chat's round of the article's polls it belongs to
    via: int | None = None  # the channel whose "answer in person" link it was posted for


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """Once the summary is posted: its message id, so that replies to it become opinions."""

    article_id: str


@dataclass(frozen=True, slots=True)
class RecordDigest:
    """One of a digest's messages: the last one sent completes the digest, any one dropped
    fails it."""

    digest_id: int
    last: bool


@dataclass(frozen=True, slots=True)
class RecordFinalResults:
    """Once a close's final results are posted: their message id, for a second /close."""

    article_id: str


@dataclass(frozen=True, slots=True)
class FallbackText:
    """If Telegram refuses the call (a reaction in a group that allows none), this text
    message instead (sendMessage's parameters but the chat, bot.engine.outbox.text_payload)."""

    payload: dict[str, Any]


Effect = RecordPoll | RecordSummary | RecordDigest | RecordFinalResults | FallbackText


def to_json(effect: Effect | None) -> dict[str, Any] | None:
    """The effect as the outbox row stores it."""
    match effect:
        case None:
            return None
        case RecordPoll():
            return {
                "kind": "poll",
                "article_id": effect.article_id,
                "question_key": effect.question_key,
                "language": effect.language,
                "anonymous": effect.anonymous,
                "multiple": effect.multiple,
                "round": effect.round,
                **({"via": effect.via} if effect.via is not None else {}),
            }
        case RecordSummary():
            return {"kind": "summary", "article_id": effect.article_id}
        case RecordDigest():
            return {"kind": "digest", "digest_id": effect.digest_id, "last": effect.last}
        case RecordFinalResults():
            return {"kind": "final results", "article_id": effect.article_id}
        case FallbackText():
            return {"fallback": effect.payload}
        case _:
            assert_never(effect)


def from_json(stored: Mapping[str, Any] | None) -> Effect | None:
    """The effect an outbox row stores (any version's), None if it has none or one that this
    version cannot read (logged)."""
    if not stored:
        return None
    try:
        return _read(stored)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("an outbox effect this version cannot read (%r): ignored", exc)
        return None


def _read(stored: Mapping[str, Any]) -> Effect | None:
    kind = stored.get("kind")
    if kind == "poll":
        return RecordPoll(
            article_id=str(stored["article_id"]),
            question_key=str(stored["question_key"]),
            language=str(stored["language"]),
            anonymous=bool(stored["anonymous"]),
            multiple=bool(stored["multiple"]),
            round=int(stored.get("round", 1)),  # rows queued before rounds existed: the first
            via=int(stored["via"]) if stored.get("via") is not None else None,
        )
    if kind == "summary":
        return RecordSummary(article_id=str(stored["article_id"]))
    if kind == "digest":
        return RecordDigest(digest_id=int(stored["digest_id"]), last=bool(stored.get("last")))
    if kind == "final results":
        return RecordFinalResults(article_id=str(stored["article_id"]))
    if kind is None and "fallback" in stored:
        return FallbackText(payload=dict(stored["fallback"]))
    if kind is None:  # only storage's own keys (an album's "messages")
        return None
    raise ValueError(f"kind {kind!r}")
