"""One outbox row made into a Bot API request: its parameters, the bot's default parse mode,
a chart drawn in a thread just before it goes (an album when it takes several pages), a
document's bytes, and a place among the messages of the second (`Pacer`)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

from telegram import Bot, InputFile, InputMediaPhoto, Message
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from bot.engine.outbox import Method
from bot.engine.sending.flood import Pacer
from bot.engine.sending.lanes import INSTANT_METHODS
from storage.models import OutboxMessage

HTML_METHODS = frozenset({Method.SEND_MESSAGE, Method.EDIT_TEXT})
#: Calls answered with the message they sent or edited.
MESSAGE_METHODS = frozenset(
    {
        Method.SEND_MESSAGE,
        Method.SEND_POLL,
        Method.SEND_PHOTO,
        Method.SEND_MEDIA_GROUP,
        Method.SEND_DOCUMENT,
        Method.EDIT_TEXT,
    }
)


def quiet_raw_calls() -> None:
    """Agora calls the Bot API by method name (the outbox stores names and parameters);
    python-telegram-bot warns about that use of `do_api_request`."""
    warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)


class Caller:
    """Makes the call an outbox row describes, and returns Telegram's answer."""

    def __init__(
        self,
        bot: Bot,
        pacer: Pacer | None,
        draw: Callable[[dict[str, Any]], list[bytes]],
        drawing_threads: int,
    ) -> None:
        quiet_raw_calls()
        self._bot = bot
        # Texts are HTML (Defaults(parse_mode=HTML), set by bot.app): a raw API request does
        # not get the bot's defaults, so the parse mode is applied here.
        defaults = bot.defaults if isinstance(bot, ExtBot) else None
        self._parse_mode = defaults.parse_mode if defaults is not None else None
        self._pacer = pacer
        self._draw = draw
        # Charts are drawn in a few threads of their own: it bounds memory (a canvas is ~10 MB).
        self._drawing = ThreadPoolExecutor(drawing_threads, thread_name_prefix="agora-chart")

    def close(self) -> None:
        self._drawing.shutdown(wait=False)

    async def __call__(self, row: OutboxMessage) -> Any:
        params = dict(row.payload)
        if row.method != Method.ANSWER_CALLBACK:
            params["chat_id"] = row.chat_id
        if row.method in HTML_METHODS and self._parse_mode is not None:
            params.setdefault("parse_mode", self._parse_mode)
        method, places = row.method, 1
        if method == Method.SEND_PHOTO and "chart" in params:
            loop = asyncio.get_running_loop()
            pages = await loop.run_in_executor(self._drawing, self._draw, params.pop("chart"))
            if len(pages) == 1:
                params["photo"] = InputFile(pages[0], filename="agora.png")
            else:  # one album, the caption under its first photo
                method, caption = Method.SEND_MEDIA_GROUP.value, params.pop("caption", None)
                places = len(pages)  # Telegram counts each photo of an album as a message
                params["media"] = [
                    InputMediaPhoto(
                        InputFile(png, filename=f"agora-{number}.png", attach=True),
                        caption=caption if number == 1 else None,
                    )
                    for number, png in enumerate(pages, 1)
                ]
        if row.method == Method.SEND_DOCUMENT and row.attachment is not None:
            params["document"] = InputFile(row.attachment, filename=params.pop("filename"))
        async with AsyncExitStack() as stack:
            if self._pacer is not None and row.method not in INSTANT_METHODS:
                await stack.enter_async_context(self._pacer.place(row.priority, row.id, places))
            # An album's answer is its messages (a tuple); a digest is complete all the same.
            return await self._bot.do_api_request(
                method,
                api_kwargs=params,
                return_type=Message if method in MESSAGE_METHODS else None,
            )
