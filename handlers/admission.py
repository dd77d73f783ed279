"""At the door: commands and button presses beyond their sender's or their group's pace are
refused before any handler runs (bot.engine.admission), with one polite notice."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import AgoraContext
from bot.core.commands import (
    ARTICLE,
    ARTICLES,
    COMMANDS,
    CROSSTAB,
    DIGEST,
    EXPORT,
    GROUPS,
    HELP,
    LANG,
    OPINION,
    OPINIONS,
    RESULTS,
    SUMMARY,
    TIMEZONE,
)
from bot.core.i18n import _, normalize_language, set_language
from bot.engine import outbox
from bot.engine.admission import Repeatable, Verdict, answer_once
from handlers.common import answer_query, is_admin, resolve_chat, thread_of

# Commands that only show something: in a group, the same answer is not sent twice in a row.
READ_ONLY = frozenset(
    ["start", *(name for c in (HELP, SUMMARY, RESULTS, CROSSTAB, GROUPS) for name in c.names)]
    + [name for c in (OPINIONS, ARTICLES, EXPORT) for name in c.names]
)
READ_ONLY_BARE = frozenset(  # ... when given no argument
    name for c in (OPINION, DIGEST, TIMEZONE, LANG, ARTICLE) for name in c.names
)


def command_of(update: Update, username: str) -> tuple[str, list[str]] | None:
    """The command a new message gives this bot, with its arguments; None if it is none."""
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    first, *arguments = message.text.split()
    name, _at, addressed = first[1:].partition("@")
    if not name or (addressed and addressed.lower() != username.lower()):
        return None  # "/" alone, or another bot's command
    return name.lower(), arguments


def read_only(name: str, arguments: list[str]) -> bool:
    return name in READ_ONLY or (name in READ_ONLY_BARE and not arguments)


def request(name: str, arguments: list[str]) -> tuple[str, ...]:
    """What a command asks, the same in both languages (/aide and /help)."""
    english = next((c.en for c in COMMANDS if name in c.names), name)
    return (english, *(word.lower() for word in arguments))


async def in_their_language(update: Update, context: AgoraContext) -> None:
    """The chat's language, or in a group the person's own when Telegram gives French or
    English: a notice is meant for them."""
    await resolve_chat(update, context)
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and chat.type != ChatType.PRIVATE and user is not None:
        language = normalize_language(user.language_code)
        if language is not None:
            set_language(language)


async def admit(update: Update, context: AgoraContext) -> None:
    """Let a command or a button press through, or refuse it (no handler runs; the update is
    still recorded as handled) when its sender, or its group's members, go too fast. Poll
    answers and everything else pass untouched."""
    answer_once.set(None)
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type == ChatType.CHANNEL:
        return
    query = update.callback_query
    command = None if query is not None else command_of(update, context.bot.username)
    if query is None and command is None:
        return
    message = update.effective_message
    # Anonymous administrators all write as the group itself: one sender.
    sender = message.sender_chat.id if message is not None and message.sender_chat else user.id
    group = chat.type != ChatType.PRIVATE
    admission = context.bot_data.admission
    verdict = admission.limits.admit(
        chat.id, sender, button=query is not None, group=group,
        admin=lambda: is_admin(update, context),
    )
    if verdict is Verdict.ADMIT:
        if group and command is not None and read_only(*command):
            answer_once.set(
                Repeatable(admission.recent, request(*command), lambda: is_admin(update, context))
            )
        return
    if query is not None:  # every press is answered: the person's client waits for it
        await in_their_language(update, context)
        answer_query(update, _("You are pressing buttons too fast; wait a few seconds."))
    elif verdict is not Verdict.IGNORE and message is not None:
        await in_their_language(update, context)
        if verdict is Verdict.TELL_PERSON:
            text = _("You are sending commands too fast; wait a few seconds.")
        else:
            text = _("This chat is sending too many commands at once; wait a few seconds.")
        outbox.send_text(
            chat.id,
            text,
            thread=thread_of(update),
            reply_to=message.message_id if group and verdict is Verdict.TELL_PERSON else None,
        )
    raise ApplicationHandlerStop
