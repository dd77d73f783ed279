"""A local fake Telegram Bot API server that the real python-telegram-bot client talks to."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import math
import mimetypes
import random
import re
import signal
import string
import struct
import threading
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from telegram.constants import ReactionEmoji

JSON = dict[str, Any]

GROUP_ANONYMOUS_BOT: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT: JSON = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}

#: Update types Telegram delivers when ``allowed_updates`` was never set (or set to ``[]``).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

#: Methods that create a message; they are rate limited and gated by kicks and blocks.
SEND_METHODS = frozenset(
    {"sendMessage", "sendPoll", "sendPhoto", "sendMediaGroup", "sendDocument"}
)
#: Methods refused with 403 when the bot cannot write to the chat.
GATED_METHODS = SEND_METHODS | {"sendChatAction", "editMessageText", "stopPoll"}

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

#: The emoji a bot may react with.
REACTION_EMOJI = frozenset(emoji.value for emoji in ReactionEmoji)

# Parameters whose form value is a plain string even when it looks like JSON.
TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "question",
        "explanation",
        "description",
        "short_description",
        "parse_mode",
        "question_parse_mode",
        "explanation_parse_mode",
        "description_parse_mode",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "custom_emoji_id",
        "language_code",
        "url",
        "emoji",
        "name",
        "title",
        "custom_title",
        "action",
        "type",
        "photo",
        "document",
        "file_id",
        "secret_token",
        "ip_address",
    }
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_UPLOAD = 50 * 1024 * 1024
MAX_PHOTO = 10 * 1024 * 1024
_WS = " \t\n\r\x0b\x0c"


class ApiError(Exception):
    """A Bot API error, rendered as ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# --------------------------------------------------------------------------- HTML entities


class HtmlParseError(Exception):
    """Raised with tdlib's wording when a text is not valid Telegram HTML."""


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_HTML_TAGS = frozenset(_SIMPLE_TAGS) | {"a", "code", "pre", "blockquote", "tg-emoji"}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TYPE_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bot_command": 50,
    "mention": 50,
    "hashtag": 50,
    "url": 50,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


def _decode_html_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decodes ``&name;`` / ``&#N;`` / ``&#xH;`` at ``i``; returns (char, next index)."""
    end = text.find(";", i + 1, i + 12)
    if end == -1:
        return None
    name = text[i + 1 : end]
    if name.startswith("#"):
        try:
            code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
        except ValueError:
            return None
        if code <= 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), end + 1
    decoded = _NAMED_ENTITIES.get(name)
    return (decoded, end + 1) if decoded is not None else None


def _checked_url(url: str) -> str | None:
    url = url.strip()
    if not url or any(ch in url for ch in " \t\n<>\"'"):
        return None
    if "://" not in url:
        url = "http://" + url
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https", "tg", "ton", "ftp"):
        return None
    host, slash, _path = rest.partition("/")
    if not host:
        return None
    if scheme in ("http", "https") and not slash and "?" not in host and "#" not in host:
        url += "/"
    return f"{scheme}://{url.partition('://')[2]}"


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSON]]:
    """Parses Telegram HTML like tdlib does; returns the plain text and its entities.

    With ``strict`` a bare ``&`` or ``>`` is refused too (real Telegram tolerates both).
    """
    n = len(text)

    def at(k: int) -> str:
        return text[k] if k < n else "\0"

    def is_space(ch: str) -> bool:
        return ch in " \t\r\n\0\x0b"

    def byte_offset(k: int) -> int:
        return len(text[:k].encode("utf-8"))

    out: list[str] = []
    u16 = 0
    # Open tags: (tag name, argument, utf-16 offset, index into ``out``).
    stack: list[tuple[str, str, int, int]] = []
    entities: list[JSON] = []
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                u16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict:
                raise HtmlParseError(f'Unescaped "&" at byte offset {byte_offset(i)}')
        if ch != "<":
            if strict and ch == ">":
                raise HtmlParseError(f'Unescaped ">" at byte offset {byte_offset(i)}')
            out.append(ch)
            u16 += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while not is_space(at(i)) and at(i) != ">":
                i += 1
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while i < n and is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                attr_begin = i
                while not is_space(at(i)) and at(i) not in "=>":
                    i += 1
                attr = text[attr_begin:i].lower()
                if not attr:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{byte_offset(begin)}"
                    )
                while i < n and is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr == "expandable":
                        argument = "1"
                        continue
                    raise HtmlParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {byte_offset(begin)}'
                    )
                i += 1
                while i < n and is_space(at(i)):
                    i += 1
                if i >= n:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not is_space(at(i)) and at(i) != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{byte_offset(token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                if (
                    (tag == "a" and attr == "href")
                    or (tag == "tg-emoji" and attr == "emoji-id")
                    or (tag == "blockquote" and attr == "expandable")
                ):
                    argument = (value or "1") if tag == "blockquote" else value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            stack.append((tag, argument, u16, len(out)))
            i += 1
            continue

        # An end tag.
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        i += 1
        while not is_space(at(i)) and at(i) != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while i < n and is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        tag, argument, offset, out_index = stack.pop()
        if end_name and end_name != tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{tag}>", '
                f'found "</{end_name}>"'
            )
        i += 1
        length = u16 - offset
        if length == 0:
            continue
        entity: JSON = {"offset": offset, "length": length}
        if tag in _SIMPLE_TAGS:
            entity["type"] = _SIMPLE_TAGS[tag]
        elif tag == "tg-emoji":
            if not argument.isdigit():
                raise HtmlParseError("Invalid custom emoji identifier specified")
            entity.update(type="custom_emoji", custom_emoji_id=argument)
        elif tag == "a":
            url = _checked_url(argument or "".join(out[out_index:]))
            if url is None:
                continue
            entity.update(type="text_link", url=url)
        elif tag == "code":
            entity["type"] = "code"
            if argument:
                entity["_language"] = argument
        elif tag == "pre":
            entity["type"] = "pre"
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == offset
                and last["length"] == length
            ):
                entities.pop()
                if last.get("_language"):
                    entity["language"] = last["_language"]
        else:  # blockquote
            entity["type"] = "expandable_blockquote" if argument else "blockquote"
        entities.append(entity)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), sort_entities(entities)


def sort_entities(entities: list[JSON]) -> list[JSON]:
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)),
    )


def strip_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trims surrounding whitespace like Telegram and shifts/clips the entities to match."""
    stripped = text.strip(_WS)
    left = utf16_len(text[: len(text) - len(text.lstrip(_WS))])
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- images


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image, or None when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            (segment,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + segment
        return None
    return None


# --------------------------------------------------------------------------- the server


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Fault:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    migrate_to_chat_id: int | None
    chat_id: int | None
    times: int
    after: int = 0  # calls let through first


@dataclass
class _Call:
    method: str
    params: JSON
    files: dict[str, Upload]


Handler = Callable[[_Call], Awaitable[Any] | Any]


def _norm_method(name: str) -> str:
    return name.replace("_", "").lower()


class FakeBotAPI:
    """An in-process Telegram Bot API: updates queue, chats, messages, polls and faults."""

    def __init__(
        self,
        token: str,
        bot_id: int = 7000000001,
        bot_username: str = "agora_test_bot",
        *,
        bot_first_name: str = "Agora",
        first_update_id: int = 1,
        seed: int | None = None,
        strict_html: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.token = token
        #: Seconds every HTTP call waits before the server handles and answers it, as a round
        #: trip to Telegram would; settable at any time.
        self.latency = latency
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.strict_html = strict_html
        self.url = ""
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.me: JSON = {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
            "has_topics_enabled": False,
            "allows_users_to_create_topics": False,
        }
        self._rng = random.Random(seed)

        # Updates.
        self.acked_offset = 0
        self._next_update_id = first_update_id
        self._pending: deque[tuple[int, str, JSON]] = deque()
        self._pending_ids: set[int] = set()
        # Every update ever pushed, so a test can make Telegram "forget" an acknowledgement.
        self._history: dict[int, tuple[int, str, JSON]] = {}
        self._pushed_at: dict[int, float] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._update_event = asyncio.Event()
        self._ack_event = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self.webhook_url = ""
        # Webhook delivery (setWebhook): POSTs each pending update to the webhook, with the
        # secret header, until it is answered 200; a test may put a round-robin of URLs in
        # `webhook_targets` to play a load balancer in front of several bot processes.
        self.webhook_secret: str | None = None
        self.webhook_max_connections = 40
        self.webhook_targets: list[str] = []
        self.webhook_retry_delay = 0.2
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status or 0)
        self._webhook_last_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, Any] = {}  # update_id -> its ordering key
        self._retry_at: dict[int, float] = {}
        self._next_target = 0

        # World state.
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.admins: dict[int, dict[int, str]] = {}
        self.bot_status: dict[int, str] = {}
        self.blocked: set[int] = set()
        # A channel's linked discussion group, and the copy Telegram forwards there of each of
        # the channel's posts: (channel, post) -> the copy's message id in the group.
        self.discussions: dict[int, int] = {}
        self.forwarded: dict[tuple[int, int], int] = {}
        self.migrated: dict[int, int] = {}
        self.messages: dict[tuple[int, int], JSON] = {}
        self.deleted: set[tuple[int, int]] = set()
        self._last_message_id: dict[int, int] = {}
        self.polls: dict[str, JSON] = {}
        self._votes: dict[str, dict[int, list[int]]] = {}
        self.reactions: dict[tuple[int, int], list[JSON]] = {}
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.commands: dict[tuple[tuple[str, int | None, int | None], str], list[JSON]] = {}
        self.files: dict[str, bytes] = {}
        self._file_meta: dict[str, JSON] = {}

        # Records and faults.
        self.calls: list[tuple[str, JSON]] = []
        # (method, time.monotonic() when accepted, message) of every message the bot sent.
        self._sent: list[tuple[str, float, JSON]] = []
        self._faults: list[_Fault] = []
        self.too_many_requests = 0
        self._per_chat_limit: int | None = None
        self._global_limit: int | None = None
        self._chat_windows: dict[Any, deque[float]] = {}
        self._global_window: deque[float] = deque()

        self._methods: dict[str, tuple[str, Handler]] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("logOut", self._true),
            ("close", self._true),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("sendMessage", self._send_message),
            ("sendPoll", self._send_poll),
            ("stopPoll", self._stop_poll),
            ("sendPhoto", self._send_photo),
            ("sendMediaGroup", self._send_media_group),
            ("sendDocument", self._send_document),
            ("editMessageText", self._edit_message_text),
            ("deleteMessage", self._delete_message),
            ("setMessageReaction", self._set_message_reaction),
            ("answerCallbackQuery", self._answer_callback_query),
            ("getChat", self._get_chat),
            ("getChatMember", self._get_chat_member),
            ("getChatAdministrators", self._get_chat_administrators),
            ("sendChatAction", self._send_chat_action),
            ("leaveChat", self._leave_chat),
        ):
            self._methods[name.lower()] = (name, handler)

        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        #: Tracebacks of unexpected exceptions inside the server (answered with HTTP 500).
        self.server_errors: list[str] = []
        #: Called with a method's result just before it is answered (a test pushes an update
        #: the instant a poll exists on Telegram's side, before the bot hears of it).
        self.on_result: dict[str, Callable[[JSON], None]] = {}

    # ------------------------------------------------------------------ lifecycle

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        return app

    async def start(self, port: int = 0) -> None:
        """Serves on 127.0.0.1 (``port`` 0 picks a free one) and sets :attr:`url`."""
        self._closing = False
        self._update_event = asyncio.Event()
        self._ack_event = asyncio.Event()
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        self._runner = runner
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        bound = next(addr for addr in runner.addresses if isinstance(addr, tuple))
        self.url = f"http://127.0.0.1:{bound[1]}"

    async def stop(self) -> None:
        """Releases long polls, stops webhook delivery and closes the server."""
        self._closing = True
        self._update_event.set()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ HTTP layer

    async def _round_trip(self) -> None:
        """The delay of a call: the server handles it (and records its effects) after it."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)

    async def _handle_file(self, request: web.Request) -> web.Response:
        await self._round_trip()
        return self._json(ApiError(404, "Not Found").payload(), 404)

    @staticmethod
    def _json(body: JSON, status: int = 200) -> web.Response:
        return web.Response(
            text=json.dumps(body, ensure_ascii=False),
            status=status,
            content_type="application/json",
        )

    async def _handle(self, request: web.Request) -> web.Response:
        # The request arrives whole (read now, while its client waits for the answer); the
        # server handles and answers it a round trip later.
        read: tuple[JSON, dict[str, Upload]] | ApiError
        try:
            read = await self._read_params(request)
        except ApiError as err:
            read = err
        await self._round_trip()
        if request.match_info["token"] != self.token:
            return self._json(ApiError(401, "Unauthorized").payload(), 401)
        if isinstance(read, ApiError):
            return self._json(read.payload(), read.code)
        params, files = read
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        recorded = dict(params)
        for name, upload in files.items():
            recorded[name] = upload.data
        if entry is None:
            self.calls.append((raw_method, recorded))
            return self._json(ApiError(404, "Not Found").payload(), 404)
        method, handler = entry
        self.calls.append((method, recorded))
        call = _Call(method, params, files)
        try:
            self._inject_faults(call)
            if method in SEND_METHODS:
                self._enforce_rate_limit(call)
            result = handler(call)
            if asyncio.iscoroutine(result):
                result = await result
            if method in self.on_result:
                self.on_result[method](result)
        except ApiError as err:
            if err.code == 429:
                self.too_many_requests += 1
            return self._json(err.payload(), err.code)
        except Exception as err:  # a defect of this server, not of the bot: keep it visible
            self.server_errors.append(f"{method}: {traceback.format_exc()}")
            failure = ApiError(500, f"Internal Server Error: fake Bot API failed on {err!r}")
            return self._json(failure.payload(), 500)
        return self._json({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, Upload]]:
        params: JSON = {}
        files: dict[str, Upload] = {}
        for key, value in request.query.items():
            params[key] = self._decode_value(key, value)
        if request.method not in ("POST", "PUT"):
            return params, files
        if request.content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError as err:
                    raise bad_request("can't parse JSON object") from err
                if not isinstance(data, dict):
                    raise bad_request("JSON object expected")
                params.update(data)
            return params, files
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if request.content_length is not None and request.content_length > MAX_UPLOAD + 4096:
                raise ApiError(413, "Request Entity Too Large")
            form = await request.post()
            for key, field in form.items():
                if isinstance(field, web.FileField):
                    files[key] = Upload(field.filename, field.content_type, field.file.read())
                else:
                    params[key] = self._decode_value(key, str(field))
        return params, files

    @staticmethod
    def _decode_value(key: str, value: str) -> Any:
        if key in TEXT_FIELDS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Makes the next ``times`` calls of ``method`` (optionally in ``chat_id``) fail,
        once ``after`` of them went through."""
        self._faults.append(
            _Fault(
                _norm_method(method),
                error_code,
                description,
                retry_after,
                migrate_to_chat_id,
                chat_id,
                times,
                after,
            )
        )

    def block_chat(self, chat_id: int) -> None:
        """Every send to ``chat_id`` now fails with 403 (kicked, or blocked by the user)."""
        self.blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def delete_chat(self, chat_id: int) -> None:
        """The chat is gone (its owner deleted it): every call about it now fails with 400
        "chat not found", as Telegram answers."""
        del self.chats[chat_id]

    def rate_limit(
        self, per_chat_per_minute: int | None = None, global_per_second: int | None = None
    ) -> None:
        """Enforces send limits with 429 + retry_after (None disables a limit).

        Like Telegram, ``per_chat_per_minute`` applies to groups, supergroups and channels
        (negative chat ids), not to private chats; ``global_per_second`` to every send.
        """
        self._per_chat_limit = per_chat_per_minute
        self._global_limit = global_per_second
        self._chat_windows.clear()
        self._global_window.clear()

    def _call_chat_id(self, call: _Call) -> Any:
        raw = call.params.get("chat_id")
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            return int(raw)
        if isinstance(raw, str) and raw.startswith("@"):
            found = self._chat_by_username(raw[1:])
            return found["id"] if found else raw
        return raw

    def _inject_faults(self, call: _Call) -> None:
        method = _norm_method(call.method)
        for fault in self._faults:
            if fault.method != method:
                continue
            if fault.chat_id is not None and self._call_chat_id(call) != fault.chat_id:
                continue
            if fault.after > 0:
                fault.after -= 1
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            parameters: JSON = {}
            if fault.retry_after is not None:
                parameters["retry_after"] = fault.retry_after
            if fault.migrate_to_chat_id is not None:
                parameters["migrate_to_chat_id"] = fault.migrate_to_chat_id
            raise ApiError(fault.error_code, fault.description, parameters or None)

    def _enforce_rate_limit(self, call: _Call) -> None:
        now = time.monotonic()
        # An album is as many messages as it has photos, each counted against the limits.
        media = call.params.get("media") if _norm_method(call.method) == "sendmediagroup" else None
        weight = len(media) if isinstance(media, list) and media else 1
        if self._global_limit is not None:
            window = self._global_window
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) + weight > self._global_limit:
                retry = max(1, math.ceil(window[0] + 1.0 - now))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        chat_window: deque[float] | None = None
        chat_id = self._call_chat_id(call)
        if self._per_chat_limit is not None and isinstance(chat_id, int) and chat_id < 0:
            chat_window = self._chat_windows.setdefault(chat_id, deque())
            while chat_window and chat_window[0] <= now - 60.0:
                chat_window.popleft()
            if len(chat_window) + weight > self._per_chat_limit:
                retry = max(1, math.ceil(chat_window[0] + 60.0 - now))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        if self._global_limit is not None:
            self._global_window.extend([now] * weight)
        if chat_window is not None:
            chat_window.extend([now] * weight)

    # ------------------------------------------------------------------ updates

    def push_update(self, payload: JSON) -> int:
        """Queues ``{type: object}`` as a new update, wakes long polls, returns its update_id.

        Cheap (no copy, no I/O); may be called from another thread than the server's loop.
        """
        kind = next(key for key in payload if key != "update_id")
        update_id = self._next_update_id
        self._next_update_id += 1
        item = (update_id, kind, {"update_id": update_id, kind: payload[kind]})
        self._pending.append(item)
        self._history[update_id] = item
        self._pushed_at[update_id] = time.monotonic()
        self._pending_ids.add(update_id)
        if self._loop is not None and self._loop_thread != threading.get_ident():
            self._loop.call_soon_threadsafe(self._update_event.set)
        else:
            self._update_event.set()
        return update_id

    def redeliver(self, update_ids: list[int]) -> None:
        """Queue already acknowledged updates again, as if the acknowledgement was lost."""
        items = {item[0]: item for item in self._pending}
        items.update((uid, self._history[uid]) for uid in update_ids)
        self._pending = deque(sorted(items.values(), key=lambda item: item[0]))
        self._pending_ids.update(update_ids)
        self.acked_offset = min([self.acked_offset, *update_ids])
        self._update_event.set()

    def pushed_at(self, update_id: int) -> float:
        """The ``time.monotonic()`` at which the update was pushed."""
        return self._pushed_at[update_id]

    def pending_count(self) -> int:
        return len(self._pending)

    def pending_updates(self) -> list[JSON]:
        return [update for _, _, update in self._pending]

    def _forget(self, update_id: int) -> None:
        self._pending_ids.discard(update_id)

    def _ack(self, offset: int) -> None:
        pending = self._pending
        if offset > 0:
            self.acked_offset = max(self.acked_offset, offset)
            while pending and pending[0][0] < offset:
                self._forget(pending.popleft()[0])
        elif offset < 0:
            while len(pending) > -offset:
                self._forget(pending.popleft()[0])
            if pending:
                self.acked_offset = max(self.acked_offset, pending[0][0])
        self._ack_event.set()

    def _allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _collect(self, limit: int) -> list[JSON]:
        batch: list[JSON] = []
        dropped = False
        for _, kind, update in self._pending:
            if not self._allowed(kind):
                dropped = True
                continue
            batch.append(update)
            if len(batch) >= limit:
                break
        if dropped:
            # Telegram never delivers filtered-out updates: they are gone for good.
            kept: deque[tuple[int, str, JSON]] = deque()
            for item in self._pending:
                if self._allowed(item[1]):
                    kept.append(item)
                else:
                    self._forget(item[0])
            self._pending = kept
            self._ack_event.set()
        return batch

    async def wait_acked(self, update_id: int, timeout: float = 15) -> None:  # noqa: ASYNC109
        """Returns once the bot acknowledged ``update_id`` and every update before it:
        getUpdates with a higher offset or, by webhook, each of them answered 200. Telegram
        forgets webhook updates one by one, not in order (a chat's or a voter's updates wait
        for their earlier one while the others go on), so the last one answered says
        nothing about an earlier one still being sent again."""

        def done() -> bool:
            if self.acked_offset > update_id:
                return True
            if update_id >= self._next_update_id:
                return False
            for pending_id, _, _ in self._pending:  # in update_id order
                if pending_id > update_id:
                    break
                if pending_id in self._pending_ids:
                    return False
            return True

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                oldest = self._pending[0][0] if self._pending else None
                raise TimeoutError(
                    f"update {update_id} not acknowledged after {timeout}s: "
                    f"acked_offset={self.acked_offset}, {len(self._pending)} pending "
                    f"(oldest {oldest}), next update_id {self._next_update_id}"
                )
            self._ack_event.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._ack_event.wait()

    async def _get_updates(self, call: _Call) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        params = call.params
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._ack(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._update_event.set()  # terminates an older long poll (409 like Telegram)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._collect(limit)
            if batch or self._closing:
                return batch
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            self._update_event.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._update_event.wait()

    # ------------------------------------------------------------------ builders

    def user(
        self,
        id: int,
        first_name: str,
        language_code: str | None = "fr",
        username: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        """A human User (registered so getChatMember knows it)."""
        user: JSON = {"id": id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self.users[id] = user
        return user

    def private_chat(self, user: JSON) -> JSON:
        """The private chat with ``user`` (registered on the server)."""
        self.users.setdefault(user["id"], user)
        chat: JSON = {"id": user["id"], "first_name": user["first_name"]}
        if "last_name" in user:
            chat["last_name"] = user["last_name"]
        if "username" in user:
            chat["username"] = user["username"]
        chat["type"] = "private"
        self.chats[chat["id"]] = chat
        self.bot_status.setdefault(chat["id"], "member")
        return dict(chat)

    def group(
        self,
        chat_id: int,
        title: str,
        type: str = "supergroup",
        *,
        forum: bool = False,
        username: str | None = None,
    ) -> JSON:
        """A group, supergroup or channel the bot is a member of (registered on the server);
        a `forum` supergroup has topics; a public one has a `username`."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative (e.g. -100123 for supergroups)")
        if type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if forum and type != "supergroup":
            raise ValueError("only supergroups can be forums")
        chat: JSON = {"id": chat_id, "title": title, "type": type}
        if forum:
            chat["is_forum"] = True
        if username is not None:
            chat["username"] = username
        self.chats[chat_id] = chat
        self.bot_status.setdefault(chat_id, "member")
        self.admins.setdefault(chat_id, {})
        return dict(chat)

    def set_admin(self, chat_id: int, user: JSON, status: str = "administrator") -> None:
        """Makes ``user`` creator/administrator (or "member" again) of a group."""
        if status not in ("creator", "administrator", "member"):
            raise ValueError(f"unsupported status {status!r}")
        if user["id"] == self.bot_id:
            self.bot_status[chat_id] = status
            return
        self.users.setdefault(user["id"], user)
        admins = self.admins.setdefault(chat_id, {})
        if status == "member":
            admins.pop(user["id"], None)
        else:
            admins[user["id"]] = status

    def _register_chat(self, chat: JSON) -> JSON:
        stored = self.chats.get(chat["id"])
        if stored is None:
            if chat.get("type") == "private":
                stored = self.chats[chat["id"]] = dict(chat)
                self.bot_status.setdefault(chat["id"], "member")
            else:
                self.group(chat["id"], chat.get("title", ""), chat.get("type", "supergroup"))
                stored = self.chats[chat["id"]]
        return stored

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def last_message_id(self, chat_id: int) -> int:
        """The newest message id in the chat (user's or bot's)."""
        try:
            return self._last_message_id[chat_id]
        except KeyError:
            raise KeyError(f"no message in chat {chat_id} yet") from None

    def _reply_copy(self, chat_id: int, message_id: int) -> JSON | None:
        stored = self.messages.get((chat_id, message_id))
        if stored is None:
            return None
        reply = copy.deepcopy(stored)
        reply.pop("reply_to_message", None)
        return reply

    @staticmethod
    def _command_entities(text: str) -> list[JSON]:
        match = re.match(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?", text)
        if match is None:
            return []
        return [{"offset": 0, "length": match.end(), "type": "bot_command"}]

    def send_text(
        self,
        chat: JSON,
        user: JSON | None,
        text: str,
        *,
        sender_chat: JSON | None = None,
        reply_to_message_id: int | None = None,
        edit: bool = False,
        message_id: int | None = None,
        topic: int | None = None,
    ) -> int:
        """Pushes a text message (or its edit) from ``user`` in ``chat`` (in a forum's
        ``topic``, given by the id of the message that opened it); returns the update_id."""
        stored_chat = self._register_chat(chat)
        chat_id = stored_chat["id"]
        if user is not None:
            self.users.setdefault(user["id"], user)
        now = int(time.time())
        if edit:
            if message_id is None:
                raise ValueError("edit=True needs the message_id of the edited message")
            original = self.messages.get((chat_id, message_id))
            if original is None:
                raise KeyError(f"no message {message_id} in chat {chat_id} to edit")
            date = original["date"]
        else:
            if message_id is None:
                message_id = self._next_message_id(chat_id)
            else:
                last = self._last_message_id.get(chat_id, 0)
                self._last_message_id[chat_id] = max(last, message_id)
            date = now
        message: JSON = {"message_id": message_id}
        if sender_chat is not None:
            message["from"] = (
                dict(GROUP_ANONYMOUS_BOT) if sender_chat["id"] == chat_id else dict(CHANNEL_BOT)
            )
            message["sender_chat"] = dict(sender_chat)
        elif user is not None:
            message["from"] = dict(user)
        message["chat"] = dict(stored_chat)
        message["date"] = date
        if topic is not None:
            if not stored_chat.get("is_forum"):
                raise ValueError(f"chat {chat_id} is not a forum")
            message["message_thread_id"] = topic
            message["is_topic_message"] = True
        if edit:
            message["edit_date"] = now
        if reply_to_message_id is not None:
            reply = self._reply_copy(chat_id, reply_to_message_id)
            if reply is None and (chat_id, reply_to_message_id) not in self.deleted:
                raise KeyError(f"no message {reply_to_message_id} in chat {chat_id} to reply to")
            if reply is not None:
                message["reply_to_message"] = reply
        message["text"] = text
        entities = self._command_entities(text)
        if entities:
            message["entities"] = entities
        self.messages[(chat_id, message_id)] = message
        kind = "edited_message" if edit else "message"
        if stored_chat["type"] == "channel":
            kind = "edited_channel_post" if edit else "channel_post"
        return self.push_update({kind: copy.deepcopy(message)})

    def vote(
        self,
        poll_id: str,
        user: JSON,
        option_ids: list[int],
        *,
        also_poll_update: bool = False,
    ) -> int:
        """Records ``user``'s (new) answer; pushes poll_answer or, if anonymous, a poll update."""
        poll = self.polls[poll_id]
        if poll["is_closed"]:
            raise ValueError(f"poll {poll_id} is closed")
        if (poll["chat_id"], poll["message_id"]) not in self.messages:
            raise ValueError(f"poll {poll_id} was deleted")
        count = len(poll["options"])
        if len(set(option_ids)) != len(option_ids) or any(
            not 0 <= option < count for option in option_ids
        ):
            raise ValueError(f"invalid option ids {option_ids} for a poll with {count} options")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("this poll does not allow multiple answers")
        self.users.setdefault(user["id"], user)
        votes = self._votes.setdefault(poll_id, {})
        if votes.get(user["id"]) and not poll["allows_revoting"]:
            raise ValueError("this poll does not allow changing or retracting a vote")
        previous = votes.pop(user["id"], [])
        for option in previous:
            poll["options"][option]["voter_count"] -= 1
        if option_ids:
            votes[user["id"]] = sorted(option_ids)
            for option in option_ids:
                poll["options"][option]["voter_count"] += 1
        poll["total_voter_count"] = len(votes)
        self._sync_poll_message(poll_id)
        if poll["is_anonymous"]:
            return self.push_update({"poll": self.poll_payload(poll_id)})
        update_id = self.push_update(
            {
                "poll_answer": {
                    "poll_id": poll_id,
                    "user": dict(user),
                    "option_ids": sorted(option_ids),
                    "option_persistent_ids": [
                        poll["options"][option]["persistent_id"] for option in sorted(option_ids)
                    ],
                }
            }
        )
        if also_poll_update:
            update_id = self.push_update({"poll": self.poll_payload(poll_id)})
        return update_id

    def poll_payload(self, poll_id: str) -> JSON:
        """The Poll object as Telegram sends it (without the server's bookkeeping keys)."""
        poll = self.polls[poll_id]
        return copy.deepcopy({k: v for k, v in poll.items() if k not in ("chat_id", "message_id")})

    def votes(self, poll_id: str) -> dict[int, list[int]]:
        """user_id -> chosen option ids, as recorded by :meth:`vote`."""
        return dict(self._votes.get(poll_id, {}))

    def _sync_poll_message(self, poll_id: str) -> None:
        poll = self.polls[poll_id]
        stored = self.messages.get((poll["chat_id"], poll["message_id"]))
        if stored is not None:
            stored["poll"] = self.poll_payload(poll_id)

    @staticmethod
    def member_payload(user: JSON, status: str, chat_type: str = "supergroup") -> JSON:
        """A complete ChatMember object for ``status``."""
        if status == "creator":
            return {"user": dict(user), "status": "creator", "is_anonymous": False}
        if status == "administrator":
            member: JSON = {
                "user": dict(user),
                "status": "administrator",
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": True,
                "can_edit_stories": True,
                "can_delete_stories": True,
            }
            if chat_type == "channel":
                member.update(can_post_messages=True, can_edit_messages=True)
            else:
                member["can_pin_messages"] = True
                if chat_type == "supergroup":
                    member["can_manage_topics"] = False
            return member
        if status == "restricted":
            return {
                "user": dict(user),
                "status": "restricted",
                "is_member": True,
                "can_send_messages": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_manage_topics": False,
                "can_edit_tag": False,
                "until_date": 0,
            }
        if status == "kicked":
            return {"user": dict(user), "status": "kicked", "until_date": 0}
        if status in ("member", "left"):
            return {"user": dict(user), "status": status}
        raise ValueError(f"unknown chat member status {status!r}")

    def my_chat_member(self, chat: JSON, from_user: JSON, old_status: str, new_status: str) -> int:
        """Pushes the bot's own membership change (and applies it: kicked/left stop sends)."""
        stored = self._register_chat(chat)
        self.users.setdefault(from_user["id"], from_user)
        self.bot_status[stored["id"]] = new_status
        return self.push_update(
            {
                "my_chat_member": {
                    "chat": dict(stored),
                    "from": dict(from_user),
                    "date": int(time.time()),
                    "old_chat_member": self.member_payload(
                        self.bot_user, old_status, stored["type"]
                    ),
                    "new_chat_member": self.member_payload(
                        self.bot_user, new_status, stored["type"]
                    ),
                }
            }
        )

    def callback_query(self, chat: JSON, user: JSON, message_id: int, data: str) -> int:
        """Pushes a press on an inline button of the stored message ``message_id``."""
        chat_id = chat["id"]
        stored = self.messages.get((chat_id, message_id))
        if stored is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        self.users.setdefault(user["id"], user)
        query_id = str(self._rng.randrange(10**18, 10**19))
        query = {
            "id": query_id,
            "from": dict(user),
            "message": copy.deepcopy(stored),
            "chat_instance": str(-((abs(chat_id) * 2654435761 + self.bot_id) % 2**63)),
            "data": data,
        }
        self.callback_queries[query_id] = query
        return self.push_update({"callback_query": query})

    def migrate(self, old_chat_id: int, new_chat_id: int, *, by_user: JSON | None = None) -> int:
        """Upgrades a group to a supergroup; later calls with the old id get the 400 migrate."""
        old = self.chats.get(old_chat_id)
        if old is None:
            raise KeyError(f"unknown chat {old_chat_id}")
        new = {"id": new_chat_id, "title": old.get("title", ""), "type": "supergroup"}
        self.chats[new_chat_id] = new
        self.admins[new_chat_id] = dict(self.admins.get(old_chat_id, {}))
        self.bot_status[new_chat_id] = self.bot_status.get(old_chat_id, "member")
        if by_user is None:
            creators = [
                uid
                for uid, status in self.admins.get(old_chat_id, {}).items()
                if status == "creator"
            ]
            by_user = self.users.get(creators[0]) if creators else None
        now = int(time.time())
        old_message: JSON = {"message_id": self._next_message_id(old_chat_id)}
        old_message["from"] = dict(by_user) if by_user is not None else dict(GROUP_ANONYMOUS_BOT)
        old_message.update(chat=dict(old), date=now, migrate_to_chat_id=new_chat_id)
        self.messages[(old_chat_id, old_message["message_id"])] = old_message
        self.push_update({"message": copy.deepcopy(old_message)})
        self.migrated[old_chat_id] = new_chat_id
        new_message: JSON = {
            "message_id": self._next_message_id(new_chat_id),
            "from": dict(GROUP_ANONYMOUS_BOT),
            "sender_chat": dict(new),
            "chat": dict(new),
            "date": now,
            "migrate_from_chat_id": old_chat_id,
        }
        self.messages[(new_chat_id, new_message["message_id"])] = new_message
        return self.push_update({"message": copy.deepcopy(new_message)})

    # ------------------------------------------------------------------ accessors

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[JSON]:
        """The messages the bot sent (as returned to it), oldest first."""
        return [message for _, message in self.sent_times(chat_id, method)]

    def sent_times(
        self, chat_id: int | None = None, method: str | None = None
    ) -> list[tuple[float, JSON]]:
        """Like :meth:`sent`, each message with the ``time.monotonic()`` it was accepted at."""
        wanted = _norm_method(method) if method else None
        return [
            (accepted, message)
            for name, accepted, message in self._sent
            if (chat_id is None or message["chat"]["id"] == chat_id)
            and (wanted is None or _norm_method(name) == wanted)
        ]

    def photo_posts(self, chat_id: int | None = None) -> int:
        """How many photos the bot posted, an album counting once."""
        albums = {m["media_group_id"] for m in self.sent(chat_id, "sendMediaGroup")}
        return len(self.sent(chat_id, "sendPhoto")) + len(albums)

    def calls_of(self, method: str) -> list[JSON]:
        """The parameters of every call of `method` the bot made, oldest first."""
        wanted = _norm_method(method)
        return [params for name, params in self.calls if _norm_method(name) == wanted]

    def reset_calls(self) -> None:
        self.calls.clear()

    def commands_for(self, language_code: str, scope: str = "default") -> list[JSON]:
        """The command list a user with ``language_code`` sees for a chat-less scope."""
        keys = [((scope, None, None), language_code), ((scope, None, None), "")]
        if scope != "default":
            keys += [(("default", None, None), language_code), (("default", None, None), "")]
        for key in keys:
            if key in self.commands:
                return copy.deepcopy(self.commands[key])
        return []

    # ------------------------------------------------------------------ helpers for methods

    def _chat_by_username(self, username: str) -> JSON | None:
        for chat in self.chats.values():
            if chat.get("username", "").lower() == username.lower():
                return chat
        return None

    def _resolve_chat(self, call: _Call) -> JSON:
        return self._chat_from_value(call.params.get("chat_id"), call.method in GATED_METHODS)

    def _chat_from_value(self, raw: Any, gated: bool = False) -> JSON:
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat: JSON | None
        if isinstance(raw, str) and raw.startswith("@"):
            chat = self._chat_by_username(raw[1:])
        else:
            try:
                chat_id = int(raw)
            except (TypeError, ValueError):
                raise bad_request("chat not found") from None
            if chat_id in self.migrated:
                raise ApiError(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self.migrated[chat_id]},
                )
            chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if gated:
            self._check_can_write(chat)
        return chat

    def _check_can_write(self, chat: JSON) -> None:
        chat_id = chat["id"]
        kind = chat["type"]
        status = self.bot_status.get(chat_id, "member")
        if chat_id in self.blocked or status == "kicked":
            if kind == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if status == "left" and kind != "private":
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        if kind == "channel" and status not in ("administrator", "creator"):
            raise bad_request("need administrator rights in the channel chat")

    def _bot_is_admin(self, chat_id: int) -> bool:
        return self.bot_status.get(chat_id) in ("administrator", "creator")

    def _format(
        self,
        text: str,
        parse_mode: Any,
        entities: Any,
        *,
        empty_error: str | None,
        too_long: tuple[int, str],
    ) -> tuple[str, list[JSON]]:
        if entities:
            if not isinstance(entities, list) or not all(
                isinstance(e, dict) and {"type", "offset", "length"} <= e.keys() for e in entities
            ):
                raise bad_request("can't parse entities JSON object")
            parsed = sort_entities([dict(e) for e in entities])
        elif parse_mode:
            mode = str(parse_mode)
            if mode.lower() == "html":
                try:
                    text, parsed = parse_html(text, strict=self.strict_html)
                except HtmlParseError as err:
                    raise bad_request(f"can't parse entities: {err}") from None
            elif mode.lower() in ("markdown", "markdownv2"):
                parsed = []
            else:
                raise bad_request(f"unsupported parse_mode {mode}")
        else:
            parsed = []
        text, parsed = strip_text(text, parsed)
        if not text and empty_error is not None:
            raise bad_request(empty_error)
        limit, message = too_long
        if utf16_len(text) > limit:
            raise bad_request(message)
        return text, parsed

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        """Validates reply_markup; returns what Telegram echoes (inline keyboards only)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'can\'t parse inline keyboard button: field "inline_keyboard" must be of type Array'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text must be non-empty")
                if len(button) == 1:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
                    raise bad_request("BUTTON_URL_INVALID")
                app = button.get("web_app")
                if app is not None and not re.match(r"^https://\S+$", str(app.get("url", ""))):
                    raise bad_request("BUTTON_URL_INVALID")  # Mini Apps open over https only
        return copy.deepcopy(markup)

    def _reply_target(self, call: _Call, chat_id: int) -> JSON | None:
        params = call.params
        reply = params.get("reply_parameters")
        target_id: Any
        target_chat: Any
        if isinstance(reply, dict):
            target_id = reply.get("message_id")
            target_chat = reply.get("chat_id", chat_id)
            allow = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            target_id = params["reply_to_message_id"]
            target_chat = chat_id
            allow = bool(params.get("allow_sending_without_reply"))
        else:
            return None
        try:
            key = (int(target_chat), int(target_id))
        except (TypeError, ValueError):
            raise bad_request("message to be replied not found") from None
        found = self._reply_copy(*key)
        if found is None and not allow:
            raise bad_request("message to be replied not found")
        return found

    def _new_bot_message(self, call: _Call, chat: JSON, **content: Any) -> JSON:
        reply = self._reply_target(call, chat["id"])
        markup = self._check_markup(call.params.get("reply_markup"))
        if markup is not None and chat["type"] != "private" and any(
            "web_app" in button for row in markup.get("inline_keyboard", []) for button in row
        ):
            raise bad_request("BUTTON_TYPE_INVALID")  # Mini App buttons: private chats only
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "from": dict(self.bot_user),
            "chat": dict(chat),
            "date": int(time.time()),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        if call.params.get("protect_content"):
            message["has_protected_content"] = True
        thread = call.params.get("message_thread_id")
        if thread not in (None, "", 0, "0") and chat.get("is_forum"):
            # Telegram: a message sent into a forum topic belongs to it.
            message["message_thread_id"] = int(thread)
            message["is_topic_message"] = True
        message.update({k: v for k, v in content.items() if v not in (None, [], "")})
        if markup is not None:
            message["reply_markup"] = markup
        self.messages[(chat["id"], message["message_id"])] = message
        snapshot = copy.deepcopy(message)
        self._sent.append((call.method, time.monotonic(), snapshot))
        if chat["type"] == "channel" and chat["id"] in self.discussions:
            self._forward_to_discussion(chat, message)
        return copy.deepcopy(message)

    def link_discussion(self, channel_id: int, group_id: int) -> None:
        """Makes the supergroup ``group_id`` the channel's discussion group."""
        self.discussions[channel_id] = group_id

    def _forward_to_discussion(self, channel: JSON, post: JSON) -> None:
        """Telegram's automatic forward of a channel post into its discussion group, pushed
        as an update only to a bot that administers the group (privacy mode hides the
        others' messages from a bot that is a mere member)."""
        group_id = self.discussions[channel["id"]]
        group = self.chats[group_id]
        copy_id = self._next_message_id(group_id)
        forward: JSON = {
            key: copy.deepcopy(value)
            for key, value in post.items()
            if key in ("text", "entities", "poll", "photo", "caption", "caption_entities")
        }
        forward.update(
            message_id=copy_id,
            **{"from": {"id": 777000, "is_bot": False, "first_name": "Telegram"}},
            chat=dict(group),
            date=post["date"],
            sender_chat=dict(channel),
            is_automatic_forward=True,
            forward_origin={
                "type": "channel",
                "chat": dict(channel),
                "message_id": post["message_id"],
                "date": post["date"],
            },
        )
        self.messages[(group_id, copy_id)] = forward
        self.forwarded[(channel["id"], post["message_id"])] = copy_id
        if self._bot_is_admin(group_id):
            self.push_update({"message": copy.deepcopy(forward)})

    def comment(self, channel_id: int, post_id: int, user: JSON, text: str) -> int | None:
        """``user`` replies in the discussion group to the forwarded copy of the channel's
        post; the update id, or None when the bot cannot see it (privacy mode: the bot is
        not an administrator of the group, and the reply is not to one of its messages)."""
        group_id = self.discussions[channel_id]
        copy_id = self.forwarded[(channel_id, post_id)]
        if not self._bot_is_admin(group_id):
            self.users.setdefault(user["id"], user)
            return None
        return self.send_text(self.chats[group_id], user, text, reply_to_message_id=copy_id)

    def _message_for(self, call: _Call, chat: JSON, not_found: str) -> JSON:
        try:
            message_id = int(call.params.get("message_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_request("message identifier is not specified") from None
        message = self.messages.get((chat["id"], message_id))
        if message is None:
            raise bad_request(not_found)
        return message

    def _new_file_ids(self, prefix: str) -> tuple[str, str]:
        alphabet = string.ascii_letters + string.digits + "-_"
        file_id = prefix + "".join(self._rng.choice(alphabet) for _ in range(56))
        unique = "AQAD" + "".join(self._rng.choice(alphabet) for _ in range(12))
        return file_id, unique

    def _upload(self, call: _Call, field: str) -> tuple[bytes | None, Upload | str]:
        if field in call.files:
            upload = call.files[field]
            return upload.data, upload
        value = call.params.get(field)
        if isinstance(value, str) and value.startswith("attach://"):
            attached = call.files.get(value[len("attach://") :])
            if attached is None:
                raise bad_request(f"file {value} not found")
            return attached.data, attached
        if isinstance(value, str) and value:
            return self.files.get(value), value
        raise bad_request(f"there is no {field} in the request")

    # ------------------------------------------------------------------ Bot API methods

    @staticmethod
    def _true(call: _Call) -> bool:
        return True

    def _get_me(self, call: _Call) -> JSON:
        return dict(self.me)

    def _set_webhook(self, call: _Call) -> bool:
        url = str(call.params.get("url") or "")
        if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = call.params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        connections = int(call.params.get("max_connections") or 40)
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self.webhook_max_connections = connections
        if call.params.get("drop_pending_updates"):
            self._drop_pending()
        self._update_event.set()
        if url and self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        return True

    def _drop_pending(self) -> None:
        while self._pending:
            self._forget(self._pending.popleft()[0])
        self._ack_event.set()

    def _delete_webhook(self, call: _Call) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        self._update_event.set()  # the delivery loop ends
        self._webhook_task = None
        if call.params.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _get_webhook_info(self, call: _Call) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending_ids),
        }
        if self.webhook_url:
            info["max_connections"] = self.webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    # ------------------------------------------------------------------ webhook delivery

    @staticmethod
    def _order_key(kind: str, payload: JSON) -> Any:
        """Updates with the same key are delivered one after the other, in order (a chat's,
        or a voter's poll answers); others in parallel, up to max_connections."""
        if kind == "poll_answer":
            return ("user", (payload.get("user") or {}).get("id"))
        for holder in (payload, payload.get("message") or {}):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict):
                return ("chat", chat.get("id"))
        return ("update", id(payload))

    async def _deliver_webhooks(self) -> None:
        """Telegram's side of webhooks: POST pending updates, forget those answered 200."""
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            posts: set[asyncio.Task[None]] = set()
            while self.webhook_url and not self._closing:
                now = time.monotonic()
                busy = set(self._in_flight.values())
                for update_id, kind, update in list(self._pending):
                    if len(self._in_flight) >= self.webhook_max_connections:
                        break
                    if update_id not in self._pending_ids or update_id in self._in_flight:
                        continue
                    if not self._allowed(kind):
                        self._forget(update_id)
                        continue
                    key = self._order_key(kind, update[kind])
                    if key in busy:
                        continue
                    busy.add(key)  # later updates of the key wait, even if this one waits
                    if self._retry_at.get(update_id, 0.0) > now:
                        continue
                    self._in_flight[update_id] = key
                    post = asyncio.create_task(self._post(session, update_id, update))
                    posts.add(post)
                    post.add_done_callback(posts.discard)
                while self._pending and self._pending[0][0] not in self._pending_ids:
                    self._pending.popleft()
                self._update_event.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.webhook_retry_delay / 2):
                        await self._update_event.wait()
            for post in list(posts):
                post.cancel()

    async def _post(self, session: aiohttp.ClientSession, update_id: int, update: JSON) -> None:
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        status = 0
        try:
            status = await self._through_balancer(session, update, headers)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._webhook_last_error = (int(time.time()), f"Connection failed: {exc!r}")
        finally:
            self._in_flight.pop(update_id, None)
            self.webhook_deliveries.append((update_id, status))
            if status == 200:
                self._retry_at.pop(update_id, None)
                self._forget(update_id)
                self._ack_event.set()
            else:
                if status:
                    self._webhook_last_error = (
                        int(time.time()),
                        f"Wrong response from the webhook: {status}",
                    )
                self._retry_at[update_id] = time.monotonic() + self.webhook_retry_delay
            self._update_event.set()

    async def _through_balancer(
        self, session: aiohttp.ClientSession, update: JSON, headers: dict[str, str]
    ) -> int:
        """POST the update to the webhook, or with `webhook_targets` to the next of them in
        turn, as a load balancer does: a target that refuses the connection (nothing was
        sent) is passed over at once for the next one, each target tried once (Caddy's
        `lb_try_duration`, nginx's `proxy_next_upstream error`), instead of failing
        Telegram's attempt. Otherwise, with updates in parallel, the round-robin can hand one
        update's attempts to a dead process again and again while the others' attempts take
        the live one's turns; Telegram posts to one URL and never sees a dead process."""

        async def post(target: str) -> int:
            async with session.post(
                target,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=60),
            ) as answer:
                await answer.read()
                return answer.status

        targets = self.webhook_targets or [self.webhook_url]
        first = self._next_target
        self._next_target += 1
        for tried in range(len(targets) - 1):  # each other target once, in turn
            with contextlib.suppress(aiohttp.ClientConnectorError):
                return await post(targets[(first + tried) % len(targets)])
        return await post(targets[(first + len(targets) - 1) % len(targets)])

    def _command_key(self, call: _Call) -> tuple[tuple[str, int | None, int | None], str]:
        scope = call.params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        chat_id: int | None = None
        user_id: int | None = None
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = self._chat_from_value(scope.get("chat_id"))["id"]
        if kind == "chat_member":
            user_id = int(scope.get("user_id", 0))
        elif kind not in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
        ):
            raise bad_request("wrong bot command scope type specified")
        language = str(call.params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return (kind, chat_id, user_id), language

    def _set_my_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", "")).strip().lstrip("/")
            description = str(command.get("description", "")).strip()
            if not name:
                raise bad_request("command must be non-empty")
            if len(name) > 32:
                raise bad_request("command is too long")
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise bad_request("invalid characters in the command")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description is too long")
            clean.append({"command": name, "description": description})
        key = self._command_key(call)
        if clean:
            self.commands[key] = clean
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, call: _Call) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._command_key(call), []))

    def _delete_my_commands(self, call: _Call) -> bool:
        self.commands.pop(self._command_key(call), None)
        return True

    def _send_message(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        raw = call.params.get("text")
        text, entities = self._format(
            "" if raw is None else str(raw),
            call.params.get("parse_mode"),
            call.params.get("entities"),
            empty_error="message text is empty",
            too_long=(MAX_TEXT, "message is too long"),
        )
        return self._new_bot_message(call, chat, text=text, entities=entities)

    def _send_poll(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        params = call.params
        question = str(params.get("question") or "").strip()
        if not question:
            raise bad_request("poll question must be non-empty")
        if len(question) > 300:
            raise bad_request("poll question length must not exceed 300")
        options = params.get("options")
        if not isinstance(options, list):
            raise bad_request("can't parse options JSON object")
        texts: list[str] = []
        for option in options:
            text = option.get("text") if isinstance(option, dict) else option
            texts.append(str(text if text is not None else "").strip())
        if len(texts) < 2:
            raise bad_request("poll must have at least 2 option")
        if len(texts) > 12:
            raise bad_request("poll can't have more than 12 options")
        if any(not text for text in texts):
            raise bad_request("poll options must be non-empty")
        if any(len(text) > 100 for text in texts):
            raise bad_request("poll options length must not exceed 100")
        is_anonymous = params.get("is_anonymous")
        is_anonymous = True if is_anonymous is None else bool(is_anonymous)
        if not is_anonymous and chat["type"] == "channel":
            raise bad_request("non-anonymous polls can't be sent to channel chats")
        kind = params.get("type") or "regular"
        if kind not in ("regular", "quiz"):
            raise bad_request("poll type must be one of regular or quiz")
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [params["correct_option_id"]]
        correct_ids = [int(c) for c in correct] if isinstance(correct, list) else []
        if kind == "quiz" and not correct_ids:
            raise bad_request("quiz poll must have correct option")

        poll_id = str(self._rng.randrange(5 * 10**18, 6 * 10**18))
        persistent: set[str] = set()
        poll_options: list[JSON] = []
        alphabet = string.ascii_letters + string.digits
        for text in texts:
            pid = "".join(self._rng.choice(alphabet) for _ in range(6))
            while pid in persistent:
                pid = "".join(self._rng.choice(alphabet) for _ in range(6))
            persistent.add(pid)
            poll_options.append({"persistent_id": pid, "text": text, "voter_count": 0})
        allows_revoting = params.get("allows_revoting")
        poll: JSON = {
            "id": poll_id,
            "question": question,
            "options": poll_options,
            "total_voter_count": 0,
            "is_closed": bool(params.get("is_closed")),
            "is_anonymous": is_anonymous,
            "type": kind,
            "allows_multiple_answers": bool(params.get("allows_multiple_answers"))
            and kind == "regular",
            "allows_revoting": True if allows_revoting is None else bool(allows_revoting),
            "members_only": bool(params.get("members_only")),
        }
        if params.get("hide_results_until_closes"):
            poll["hide_results_until_closes"] = True
        if kind == "quiz":
            if any(not 0 <= c < len(texts) for c in correct_ids):
                raise bad_request("wrong correct option ids specified")
            poll["correct_option_ids"] = correct_ids
            if params.get("explanation"):
                poll["explanation"] = str(params["explanation"])
        if params.get("open_period"):
            poll["open_period"] = int(params["open_period"])
        if params.get("close_date"):
            poll["close_date"] = int(params["close_date"])
        message = self._new_bot_message(call, chat, poll=copy.deepcopy(poll))
        self.polls[poll_id] = {**poll, "chat_id": chat["id"], "message_id": message["message_id"]}
        self._votes[poll_id] = {}
        return message

    def _stop_poll(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        message = self._message_for(call, chat, "message to stop poll not found")
        if "poll" not in message:
            raise bad_request("message with poll to stop not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("poll can't be stopped")
        poll_id = message["poll"]["id"]
        poll = self.polls[poll_id]
        if poll["is_closed"]:
            raise bad_request("poll has already been closed")
        poll["is_closed"] = True
        markup = self._check_markup(call.params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        self._sync_poll_message(poll_id)
        # Bots receive the state of the polls they sent, closed ones included.
        self.push_update({"poll": self.poll_payload(poll_id)})
        return self.poll_payload(poll_id)

    def delete_by_hand(self, chat_id: int, message_id: int) -> None:
        """An administrator deletes a message in the chat (a poll, say) from their app."""
        key = (chat_id, message_id)
        del self.messages[key]
        self.deleted.add(key)

    def _media_caption(self, call: _Call) -> tuple[str, list[JSON]]:
        raw = call.params.get("caption")
        return self._format(
            "" if raw is None else str(raw),
            call.params.get("parse_mode"),
            call.params.get("caption_entities"),
            empty_error=None,
            too_long=(MAX_CAPTION, "message caption is too long"),
        )

    def _send_photo(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        data, source = self._upload(call, "photo")
        caption, entities = self._media_caption(call)
        sizes = self._photo(data, source)
        return self._new_bot_message(
            call, chat, photo=sizes, caption=caption, caption_entities=entities
        )

    def _photo(self, data: bytes | None, source: Upload | str) -> list[JSON]:
        """The PhotoSizes of a photo sent as a file, a file_id or a URL, checked like Telegram
        checks them (size, image format, dimensions)."""
        if isinstance(source, str) and source in self._file_meta:
            if "photo" not in self._file_meta[source]:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return copy.deepcopy(self._file_meta[source]["photo"])
        if data is None:
            if not (isinstance(source, str) and source.startswith(("http://", "https://"))):
                raise bad_request("wrong file identifier/HTTP URL specified")
            data = b""
            width, height = 1280, 720
        else:
            if not data:
                raise bad_request("file must be non-empty")
            if len(data) > MAX_PHOTO:
                raise bad_request("file is too big")
            dims = image_size(data)
            if dims is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = dims
            if (
                width <= 0
                or height <= 0
                or width + height > 10000
                or max(width, height) / min(width, height) > 20
            ):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes = self._photo_sizes(width, height, len(data))
        for size in sizes:
            self.files[size["file_id"]] = data
            self._file_meta[size["file_id"]] = {"photo": sizes}
        return sizes

    def _send_media_group(self, call: _Call) -> list[JSON]:
        """An album of 2 to 10 photos (the only media this server knows), each given as
        attach://name, a file_id or a URL, each with its own caption; answered with one
        message per photo, all sharing a media_group_id."""
        chat = self._resolve_chat(call)
        media = call.params.get("media")
        if not media:
            raise bad_request("media to send are not specified")
        if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
            raise bad_request("can't parse media JSON object")
        if len(media) < 2:
            raise bad_request("wrong number of media in the album: 2 to 10 expected")
        if len(media) > 10:
            raise bad_request("too much messages to send as an album")
        photos = []
        for item in media:
            if item.get("type") != "photo":
                raise bad_request(f"media of type {item.get('type')!r} is not supported here")
            value = item.get("media")
            if not isinstance(value, str) or not value:
                raise bad_request("can't parse InputMedia: media not found")
            if value.startswith("attach://"):
                upload = call.files.get(value[len("attach://") :])
                if upload is None:
                    raise bad_request("can't parse InputMedia: media not found")
                data, source = upload.data, upload
            else:
                data, source = self.files.get(value), value
            caption, entities = self._format(
                str(item.get("caption") or ""),
                item.get("parse_mode"),
                item.get("caption_entities"),
                empty_error=None,
                too_long=(MAX_CAPTION, "message caption is too long"),
            )
            photos.append((self._photo(data, source), caption, entities))
        # Every photo was accepted: the album goes out whole, its messages in order.
        group_id = str(10**17 + self._rng.randrange(10**17))
        album = _Call(call.method, {k: v for k, v in call.params.items() if k != "reply_markup"},
                      call.files)
        return [
            self._new_bot_message(
                album,
                chat,
                media_group_id=group_id,
                photo=sizes,
                caption=caption,
                caption_entities=entities,
            )
            for sizes, caption, entities in photos
        ]

    def _photo_sizes(self, width: int, height: int, file_size: int) -> list[JSON]:
        longest = max(width, height)
        sides = [side for side in (90, 320, 800, 1280) if side < longest]
        sides.append(min(longest, 2560))
        sizes: list[JSON] = []
        for side in sides:
            scale = side / longest
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            file_id, unique = self._new_file_ids("AgACAgIAAxkDAAI")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": max(1, round(file_size * scale * scale)) if file_size else 0,
                    "width": w,
                    "height": h,
                }
            )
        return sizes

    def _send_document(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        _, source = self._upload(call, "document")
        caption, entities = self._media_caption(call)
        if isinstance(source, str):
            if source in self._file_meta and "document" in self._file_meta[source]:
                document = copy.deepcopy(self._file_meta[source]["document"])
            elif source.startswith(("http://", "https://")):
                name = source.rstrip("/").rsplit("/", 1)[-1] or "file"
                document = self._document_payload(name, None, b"")
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            if not source.data:
                raise bad_request("file must be non-empty")
            if len(source.data) > MAX_UPLOAD:
                raise ApiError(413, "Request Entity Too Large")
            document = self._document_payload(
                source.filename or "document", source.content_type, source.data
            )
        return self._new_bot_message(
            call, chat, document=document, caption=caption, caption_entities=entities
        )

    def _document_payload(self, name: str, content_type: str | None, data: bytes) -> JSON:
        guessed = mimetypes.guess_type(name)[0]
        mime = guessed or (
            content_type if content_type and content_type != "application/octet-stream" else None
        )
        file_id, unique = self._new_file_ids("BQACAgIAAxkDAAI")
        document: JSON = {"file_name": name}
        if mime:
            document["mime_type"] = mime
        document.update(file_id=file_id, file_unique_id=unique, file_size=len(data))
        self.files[file_id] = data
        self._file_meta[file_id] = {"document": document}
        return copy.deepcopy(document)

    def _edit_message_text(self, call: _Call) -> JSON | bool:
        if call.params.get("inline_message_id"):
            raise bad_request("message to edit not found")
        chat = self._resolve_chat(call)
        message = self._message_for(call, chat, "message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        raw = call.params.get("text")
        text, entities = self._format(
            "" if raw is None else str(raw),
            call.params.get("parse_mode"),
            call.params.get("entities"),
            empty_error="message text is empty",
            too_long=(MAX_TEXT, "message is too long"),
        )
        markup = self._check_markup(call.params.get("reply_markup"))
        if (
            text == message["text"]
            and entities == message.get("entities", [])
            and markup == message.get("reply_markup")
        ):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _delete_message(self, call: _Call) -> bool:
        chat = self._resolve_chat(call)
        message = self._message_for(call, chat, "message to delete not found")
        from_bot = message.get("from", {}).get("id") == self.bot_id
        if not from_bot and chat["type"] != "private" and not self._bot_is_admin(chat["id"]):
            raise bad_request("message can't be deleted")
        key = (chat["id"], message["message_id"])
        del self.messages[key]
        self.deleted.add(key)
        return True

    def _set_message_reaction(self, call: _Call) -> bool:
        chat = self._resolve_chat(call)
        message = self._message_for(call, chat, "message to react not found")
        reaction = call.params.get("reaction") or []
        if not isinstance(reaction, list):
            raise bad_request("can't parse reaction types JSON object")
        for item in reaction:
            if not isinstance(item, dict):
                raise bad_request("can't parse ReactionType JSON object")
            if item.get("type") == "emoji":
                if item.get("emoji") not in REACTION_EMOJI:
                    raise bad_request("REACTION_INVALID")
            elif item.get("type") != "custom_emoji":
                raise bad_request("REACTION_INVALID")
        self.reactions[(chat["id"], message["message_id"])] = copy.deepcopy(reaction)
        return True

    def _answer_callback_query(self, call: _Call) -> bool:
        query_id = str(call.params.get("callback_query_id") or "")
        if query_id not in self.callback_queries or query_id in self.callback_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = call.params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = dict(call.params)
        return True

    def _get_chat(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        info: JSON = dict(chat)
        info["accent_color_id"] = abs(chat["id"]) % 7
        info["max_reaction_count"] = 11
        if chat["type"] == "private":
            user = self.users.get(chat["id"], {})
            if "username" in user:
                info["active_usernames"] = [user["username"]]
            info["accepted_gift_types"] = {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            }
        else:
            info["accepted_gift_types"] = {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            }
            if chat["type"] != "channel":
                info["permissions"] = {
                    "can_send_messages": True,
                    "can_send_audios": True,
                    "can_send_documents": True,
                    "can_send_photos": True,
                    "can_send_videos": True,
                    "can_send_video_notes": True,
                    "can_send_voice_notes": True,
                    "can_send_polls": True,
                    "can_send_other_messages": True,
                    "can_add_web_page_previews": True,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                }
            if chat["type"] == "supergroup":
                info["has_visible_history"] = True
            linked = self.discussions.get(chat["id"]) or next(
                (c for c, g in self.discussions.items() if g == chat["id"]), None
            )
            if linked is not None:
                info["linked_chat_id"] = linked
        return info

    def _status_of(self, chat: JSON, user_id: int) -> str:
        if user_id == self.bot_id:
            return self.bot_status.get(chat["id"], "member")
        if chat["type"] == "private":
            return "member"
        return self.admins.get(chat["id"], {}).get(user_id, "member")

    def _get_chat_member(self, call: _Call) -> JSON:
        chat = self._resolve_chat(call)
        try:
            user_id = int(call.params.get("user_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_request("invalid user_id specified") from None
        if user_id == self.bot_id:
            user = self.bot_user
        elif user_id in self.users:
            user = self.users[user_id]
        else:
            raise bad_request("user not found")
        return self.member_payload(user, self._status_of(chat, user_id), chat["type"])

    def _get_chat_administrators(self, call: _Call) -> list[JSON]:
        chat = self._resolve_chat(call)
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        if chat["type"] == "channel" and not self._bot_is_admin(chat["id"]):
            raise bad_request("member list is inaccessible")
        admins = self.admins.get(chat["id"], {})
        ordered = sorted(admins.items(), key=lambda item: item[1] != "creator")
        members = [
            self.member_payload(self.users[user_id], status, chat["type"])
            for user_id, status in ordered
        ]
        if self._bot_is_admin(chat["id"]):
            members.append(
                self.member_payload(self.bot_user, self.bot_status[chat["id"]], chat["type"])
            )
        return members

    def _send_chat_action(self, call: _Call) -> bool:
        self._resolve_chat(call)
        if call.params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _leave_chat(self, call: _Call) -> bool:
        chat = self._resolve_chat(call)
        if chat["type"] == "private":
            raise bad_request("chat member status can't be changed in private chats")
        old = self.bot_status.get(chat["id"], "member")
        if old in ("left", "kicked"):
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        self.my_chat_member(chat, self.bot_user, old, "left")
        return True


# --------------------------------------------------------------------------- standalone


async def _serve(port: int, token: str) -> None:
    server = FakeBotAPI(token)
    await server.start(port)
    print(f"fake Bot API listening on {server.url} (base_url {server.url}/bot)", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API server.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", required=True)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.token))


if __name__ == "__main__":
    main()
