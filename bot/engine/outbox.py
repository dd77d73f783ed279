"""Queueing Telegram calls from inside a unit of work: what handlers and digests "send".

Nothing here touches the network. Each function adds an outbox row to the current unit's
transaction; the sender (bot.engine.sending) makes the call once the transaction has committed.
The Bot API methods (`Method`) and the priorities (`Priority`) are defined here, once: storage
keeps them as plain data. What a call records once sent is a typed effect (bot.engine.effects).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardMarkup

from bot.engine.effects import Effect, FallbackText, RecordPoll, from_json, to_json
from bot.engine.transaction import current_unit
from storage.models import OutboxMessage
from storage.outbox import new_message, pending_effects, recent_payloads


class Priority(IntEnum):
    """The order calls go in across chats, lowest first (a row's `priority`)."""

    ANSWER = 0  # replies, reactions, callback answers, files people asked for
    POLL = 1
    DIGEST = 2
    ANNOUNCEMENT = 3  # a new article, told to the chats that follow the latest

    @classmethod
    def label(cls, value: int) -> str:
        """What a row's priority says it is, for metrics and operators ("answer", "poll"…)."""
        try:
            return cls(value).name.lower()
        except ValueError:  # a priority no longer defined
            return "other"


class Method(StrEnum):
    """The Bot API methods the outbox calls, stored by name in a row's `method`."""

    SEND_MESSAGE = "sendMessage"
    SEND_POLL = "sendPoll"
    STOP_POLL = "stopPoll"
    SEND_PHOTO = "sendPhoto"
    SEND_MEDIA_GROUP = "sendMediaGroup"  # a chart of several pages (made by the sender)
    SEND_DOCUMENT = "sendDocument"
    EDIT_TEXT = "editMessageText"
    REACT = "setMessageReaction"
    ANSWER_CALLBACK = "answerCallbackQuery"


def message(
    chat_id: int,
    method: Method,
    payload: dict[str, Any],
    *,
    priority: Priority,
    effect: Effect | None = None,
    attachment: bytes | None = None,
) -> OutboxMessage:
    """A new outbox row for one Bot API call (not added to any session)."""
    return new_message(
        chat_id,
        method.value,
        payload,
        priority=int(priority),
        now=datetime.now(UTC),
        effect=to_json(effect),
        attachment=attachment,
    )


def queue(
    chat_id: int,
    method: Method,
    payload: dict[str, Any],
    *,
    priority: Priority = Priority.ANSWER,
    effect: Effect | None = None,
    attachment: bytes | None = None,
) -> OutboxMessage:
    """Queue one Bot API call to `chat_id` in the current unit of work."""
    unit = current_unit()
    row = message(
        chat_id, method, payload, priority=priority, effect=effect, attachment=attachment
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
    effect: Effect | None = None,
) -> OutboxMessage:
    """An HTML text message."""
    payload = text_payload(text, thread=thread, reply_to=reply_to, reply_markup=reply_markup)
    return queue(chat_id, Method.SEND_MESSAGE, payload, priority=priority, effect=effect)


def send_poll(
    chat_id: int,
    question: str,
    options: list[str],
    *,
    anonymous: bool,
    multiple: bool,
    thread: int | None = None,
    hidden: bool = False,
    effect: RecordPoll,
) -> OutboxMessage:
    """A native poll (`hidden`: nobody sees its results before it is closed)."""
    payload: dict[str, Any] = {
        "question": question,
        "options": [{"text": option} for option in options],
        "is_anonymous": anonymous,
        "allows_multiple_answers": multiple,
        **_placement(thread, None),
    }
    if hidden:
        payload["hide_results_until_closes"] = True
    return queue(chat_id, Method.SEND_POLL, payload, priority=Priority.POLL, effect=effect)


def stop_poll(chat_id: int, message_id: int) -> OutboxMessage:
    """Close a poll the bot posted: Telegram takes no more answers to it."""
    return queue(chat_id, Method.STOP_POLL, {"message_id": message_id})


def send_document(
    chat_id: int,
    content: bytes,
    filename: str,
    caption: str,
    *,
    thread: int | None = None,
) -> OutboxMessage:
    payload = {"filename": filename, "caption": caption, **_placement(thread, None)}
    return queue(chat_id, Method.SEND_DOCUMENT, payload, attachment=content)


def send_chart(
    chat_id: int,
    chart: dict[str, Any],
    caption: str,
    *,
    thread: int | None = None,
    effect: Effect | None = None,
) -> OutboxMessage:
    """A photo drawn by the sender just before it goes out (see bot.digests.chart.draw_chart)."""
    payload = {"chart": chart, "caption": caption, **_placement(thread, None)}
    return queue(chat_id, Method.SEND_PHOTO, payload, priority=Priority.DIGEST, effect=effect)


def edit_text(
    chat_id: int, message_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> OutboxMessage:
    payload: dict[str, Any] = {"message_id": message_id, "text": text}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup.to_dict()
    return queue(chat_id, Method.EDIT_TEXT, payload)


def react(chat_id: int, message_id: int, emoji: str, *, fallback: dict[str, Any]) -> None:
    """A reaction on a message; if Telegram refuses it, the `fallback` text message instead."""
    payload = {"message_id": message_id, "reaction": [{"type": "emoji", "emoji": emoji}]}
    queue(chat_id, Method.REACT, payload, effect=FallbackText(fallback))


def answer_callback(
    chat_id: int, query_id: str, text: str | None = None, *, show_alert: bool = False
) -> None:
    """Answer a button press (`chat_id` only places it in that chat's lane)."""
    payload: dict[str, Any] = {"callback_query_id": query_id}
    if text is not None:
        payload["text"] = text
    if show_alert:
        payload["show_alert"] = True
    queue(chat_id, Method.ANSWER_CALLBACK, payload)


async def queued_polls(session: AsyncSession, chat_id: int, article_id: str) -> bool:
    """Whether polls of the article are waiting to be posted in the chat."""
    effects = await pending_effects(session, chat_id, Method.SEND_POLL.value)
    return any(
        isinstance(effect, RecordPoll) and effect.article_id == article_id
        for effect in map(from_json, effects)
    )


async def last_edit(
    session: AsyncSession, chat_id: int, message_id: int
) -> dict[str, Any] | None:
    """The parameters of the last edit queued for a message (pending or sent): what it says,
    or will once the edit is sent; None if unknown (not among the chat's last 50 edits)."""
    payloads = await recent_payloads(session, chat_id, Method.EDIT_TEXT.value)
    return next((p for p in payloads if p.get("message_id") == message_id), None)
