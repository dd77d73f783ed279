"""Baseline for the throughput benchmark: a stock python-telegram-bot Application whose
poll-answer handler does nothing; it says "done" once it has seen the expected count."""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, PollAnswerHandler


def main() -> None:
    expected, chat_id = int(sys.argv[1]), int(sys.argv[2])
    seen = 0

    async def count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal seen
        seen += 1
        if seen == expected:
            await context.bot.send_message(chat_id, "done")

    app = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_URL"] + "/bot")
        .build()
    )
    app.add_handler(PollAnswerHandler(count))
    app.run_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0)


if __name__ == "__main__":
    main()
