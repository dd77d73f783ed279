"""Telegram handlers, one module per feature; `register` wires them all into an Application."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.context import AgoraApp
from handlers import (
    articles,
    channels,
    close,
    crosstab,
    digest,
    export,
    fallback,
    forget,
    groups,
    help,
    language,
    listing,
    me,
    membership,
    moderation,
    opinions,
    polls,
    publishing,
    rating,
    report,
    results,
    rounds,
    summary,
)
from handlers.common import resolve_chat


def register(app: AgoraApp) -> None:
    # Group -1 runs first for every update: record the chat and pick its language.
    app.add_handler(TypeHandler(Update, resolve_chat), group=-1)
    modules = (
        rating,  # before help: its /start with a rating link's payload
        publishing,  # before help too: its /start with a channel's link's payload
        channels,
        help,
        summary,
        polls,
        rounds,
        results,
        close,
        crosstab,
        groups,
        opinions,
        listing,
        me,
        moderation,
        export,
        report,
        forget,
        articles,
        language,
        digest,
        membership,
        fallback,
    )
    for module in modules:
        module.register(app)
