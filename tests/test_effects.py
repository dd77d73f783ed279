"""What a queued call records, as the outbox row stores it (bot.engine.effects): every effect
read back as written, and the rows of earlier versions read as they meant."""

from __future__ import annotations

import logging

import pytest

from bot.engine.effects import (
    Effect,
    FallbackText,
    RecordDigest,
    RecordPoll,
    RecordSummary,
    from_json,
    to_json,
)

EFFECTS: list[Effect] = [
    RecordPoll("openai-crisis", "q1", "fr", anonymous=False, multiple=True),
    RecordSummary("openai-crisis"),
    RecordDigest(42, last=True),
    RecordDigest(42, last=False),
    FallbackText({"text": "Merci, votre avis est enregistré.", "message_thread_id": 7}),
]


@pytest.mark.parametrize("effect", EFFECTS, ids=lambda effect: type(effect).__name__)
def test_each_effect_is_read_back_as_written(effect: Effect) -> None:
    assert from_json(to_json(effect)) == effect


def test_the_rows_of_the_previous_version_read_as_they_meant() -> None:
    """The dicts the previous version wrote, verbatim; an album's row has "messages" too."""
    assert from_json(
        {"kind": "poll", "article_id": "a", "question_key": "q2", "language": "en",
         "anonymous": True, "multiple": False}
    ) == RecordPoll("a", "q2", "en", anonymous=True, multiple=False)
    assert from_json({"kind": "summary", "article_id": "a"}) == RecordSummary("a")
    assert from_json({"kind": "digest", "digest_id": 3, "last": True, "messages": 2}) == (
        RecordDigest(3, last=True)
    )
    assert from_json({"fallback": {"text": "Merci"}}) == FallbackText({"text": "Merci"})
    assert from_json({"messages": 2}) is None
    assert from_json(None) is None
    assert from_json({}) is None


def test_the_written_form_is_the_previous_versions() -> None:
    """Instances of either version read each other's rows (a rolling upgrade)."""
    assert to_json(RecordDigest(3, last=False)) == {"kind": "digest", "digest_id": 3, "last": False}
    assert to_json(FallbackText({"text": "Merci"})) == {"fallback": {"text": "Merci"}}
    assert to_json(None) is None


def test_an_effect_this_version_cannot_read_is_no_effect(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert from_json({"kind": "poll", "article_id": "a"}) is None  # keys missing
        assert from_json({"kind": "a future kind", "x": 1}) is None
        assert from_json({"kind": "digest", "digest_id": "not a number"}) is None
    assert len(caplog.records) == 3
