"""Queueing Telegram calls from inside a unit of work: what handlers and digests "send".

Nothing here touches the network. Each function adds an outbox row to the current unit's
transaction; the sender (bot.engine.sending) makes the call once the transaction has committed.
Priorities: answers to people first, then polls, then digests, then announcements.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.engine.transaction import current_unit
from storage.models import OutboxMessage
from storage.outbox import new_message


class Priority(IntEnum):
    ANSWER = 0  # replies, reactions, callback answers, files people asked for
    POLL = 1
    DIGEST = 2
    ANNOUNCEMENT = 3  # a new article, told to the chats that follow the latest


def queue(
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    *,
    priority: Priority = Priority.ANSWER,
    effect: dict[str, Any] | None = None,
    attachment: bytes | None = None,
) -> OutboxMessage:
    """Queue one Bot API call to `chat_id` in the current unit of work."""
    unit = current_unit()
    row = new_message(
        chat_id,
        method,
        payload,
        priority=priority,
        now=datetime.now(UTC),
        effect=effect,
        attachment=attachment,
    )
    unit.session.add(row)
    unit.queued.append(row)
    return row


def _placement(thread: int | None, reply_to: int | None) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if thread is not None:
        payload["message_thread_id"] = thread
    if reply_to is not None:
        payload["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
    return payload


def text_payload(
    text: str,
    *,
    thread: int | None = None,
    reply_to: int | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> dict[str, Any]:
    """sendMessage's parameters for an HTML text (but the chat)."""
    payload: dict[str, Any] = {"text": text, **_placement(thread, reply_to)}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup.to_dict()
    return payload


def send_text(
    chat_id: int,
    text: str,
    *,
    thread: int | None = None,
    reply_to: int | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
    priority: Priority = Priority.ANSWER,
    effect: dict[str, Any] | None = None,
) -> OutboxMessage:
    """An HTML text message."""
    payload = text_payload(text, thread=thread, reply_to=reply_to, reply_markup=reply_markup)
    return queue(chat_id, "sendMessage", payload, priority=priority, effect=effect)


def send_poll(
    chat_id: int,
    question: str,
    options: list[str],
    *,
    anonymous: bool,
    multiple: bool,
    thread: int | None = None,
    effect: dict[str, Any],
) -> OutboxMessage:
    payload: dict[str, Any] = {
        "question": question,
        "options": [{"text": option} for option in options],
        "is_anonymous": anonymous,
        "allows_multiple_answers": multiple,
        **_placement(thread, None),
    }
    return queue(chat_id, "sendPoll", payload, priority=Priority.POLL, effect=effect)


def send_document(
    chat_id: int,
    content: bytes,
    filename: str,
    caption: str,
    *,
    thread: int | None = None,
) -> OutboxMessage:
    payload = {"filename": filename, "caption": caption, **_placement(thread, None)}
    return queue(chat_id, "sendDocument", payload, attachment=content)


def send_chart(
    chat_id: int,
    chart: dict[str, Any],
    caption: str,
    *,
    thread: int | None = None,
    effect: dict[str, Any] | None = None,
) -> OutboxMessage:
    """A photo drawn by the sender just before it goes out (see bot.digests.chart.draw_chart)."""
    payload = {"chart": chart, "caption": caption, **_placement(thread, None)}
    return queue(chat_id, "sendPhoto", payload, priority=Priority.DIGEST, effect=effect)


def edit_text(
    chat_id: int, message_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> OutboxMessage:
    payload: dict[str, Any] = {"message_id": message_id, "text": text}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup.to_dict()
    return queue(chat_id, "editMessageText", payload)


def react(chat_id: int, message_id: int, emoji: str, *, fallback: dict[str, Any]) -> None:
    """A reaction on a message; if Telegram refuses it, the `fallback` text message instead."""
    payload = {"message_id": message_id, "reaction": [{"type": "emoji", "emoji": emoji}]}
    queue(chat_id, "setMessageReaction", payload, effect={"fallback": fallback})


def answer_callback(
    chat_id: int, query_id: str, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press (`chat_id` only places it in that chat's lane)."""
    payload: dict[str, Any] = {"callback_query_id": query_id}
    if text is not None:
        payload["text"] = text
    if show_alert:
        payload["show_alert"] = True
    queue(chat_id, "answerCallbackQuery", payload)
