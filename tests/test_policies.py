"""The rules behind the handlers, tested as plain functions (no bot, no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from telegram import Chat, Message, User

from bot.core.formatting import utf16_length
from bot.core.i18n import using_language
from bot.core.localtime import moment_text, spreadsheet_moment, widest_moment
from bot.discussion.opinions import MAX_LENGTH, author_of, length_problem, opinion_text

pytestmark = pytest.mark.floors


def message(text: str, *, sender_chat: Chat | None = None) -> Message:
    group = Chat(-100, Chat.SUPERGROUP, title="Débat")
    return Message(
        7, datetime(2026, 11, 26, tzinfo=UTC), group, from_user=User(5, "Zoé", False),
        text=text, sender_chat=sender_chat,
    )


def test_an_opinion_is_the_text_after_its_command() -> None:
    assert opinion_text(message("/avis  Un avis  ")) == "Un avis"
    assert opinion_text(message("/avis")) == ""
    assert opinion_text(message("Un avis en réponse")) == "Un avis en réponse"


def test_anonymous_administrators_and_channels_are_their_own_authors() -> None:
    assert author_of(message("x")) == (5, "Zoé")
    channel = Chat(-1001, Chat.CHANNEL, title="Le Canal")
    assert author_of(message("x", sender_chat=channel)) == (-1001, "Le Canal")


def test_length_problems_are_said_in_the_current_language() -> None:
    with using_language("fr"):
        assert length_problem("ok!") is None
        assert length_problem("ah") == "Un avis doit compter au moins 3 caractères."
    with using_language("en"):
        too_long = length_problem("x" * (MAX_LENGTH + 1))
        assert too_long == (
            "An opinion is limited to 1000 characters (yours has 1001). Please shorten it."
        )


def test_moments_are_written_in_the_chat_time_zone() -> None:
    moment = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)
    paris, montreal = ZoneInfo("Europe/Paris"), ZoneInfo("America/Montreal")
    with using_language("fr"):
        assert moment_text(moment, paris) == "26/11/2026 18:30"
        assert moment_text(moment, montreal, time_only=True) == "12:30"
        assert widest_moment(paris) >= utf16_length(moment_text(moment, paris))
    assert spreadsheet_moment(moment, paris) == "2026-11-26 18:30"
