"""The bot joining or leaving a group or a channel, and groups becoming supergroups."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ChatMemberHandler, MessageHandler, filters

from bot.context import AgoraApp, AgoraContext
from bot.core.commands import DIGEST, SUMMARY
from bot.core.i18n import _, current_language
from bot.engine.transaction import current_unit
from handlers.request import Received, Request, handles, receives
from storage.chats import get_chat, migrate_chat

log = logging.getLogger(__name__)

PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER}


def greeting() -> str:
    language = current_language()
    return _(
        "Hello! I am Agora: I help this group discuss a news article.\n"
        "• /{summary}: the article's summary\n"
        "• /{digest} on: a daily digest of the answers (off until an administrator turns it on)"
    ).format(summary=SUMMARY.name(language), digest=DIGEST.name(language))


@handles()
async def membership_changed(request: Request) -> None:
    """Greet a group the bot was added to; stop the digests of one it was removed from."""
    change, chat, context = request.update.my_chat_member, request.chat, request.context
    assert change is not None
    was_in = change.old_chat_member.status in PRESENT
    is_in = change.new_chat_member.status in PRESENT
    scheduler = context.digests
    context.services.admins.forget(chat.id)  # the bot's own rights changed
    context.services.channels.forget(chat.id)  # it may be a channel's discussion group
    if is_in and not was_in:
        if change.chat.type != ChatType.PRIVATE:
            request.reply(greeting())
        current_unit().on_commit(lambda: scheduler.arm(chat))
    elif was_in and not is_in:
        chat.active = False
        current_unit().on_commit(lambda: scheduler.disarm(chat.id))


@receives
async def channel_membership(received: Received) -> None:
    """The bot's rights in a channel changed: nothing is posted (a channel is set up from a
    private chat, /channel); a linked channel the bot was removed from becomes inactive."""
    change, context = received.update.my_chat_member, received.context
    assert change is not None
    context.services.channels.forget(change.chat.id)
    is_in = change.new_chat_member.status in PRESENT
    channel = await get_chat(received.session, change.chat.id)
    if channel is None or is_in:
        return
    channel.active = False
    scheduler = context.digests
    current_unit().on_commit(lambda: scheduler.disarm(channel.id))


async def membership(update: Update, context: AgoraContext) -> None:
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.CHANNEL:
        await channel_membership(update, context)
    else:
        await membership_changed(update, context)


@receives
async def chat_migrated(received: Received) -> None:
    """Carry a group's settings, polls and digests over to its new supergroup id."""
    message, context = received.update.effective_message, received.context
    assert message is not None
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    chat = await migrate_chat(received.session, old, new)
    if chat is not None:
        log.info("chat %s became supergroup %s", old, new)
        scheduler = context.digests
        current_unit().on_commit(lambda: scheduler.moved(old, chat))


async def members_changed(update: Update, context: AgoraContext) -> None:
    """Someone's rights in a group changed: its administrators are fetched again when needed."""
    change = update.chat_member
    assert change is not None
    context.services.admins.forget(change.chat.id)


def register(app: AgoraApp) -> None:
    app.add_handler(ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(ChatMemberHandler(members_changed, ChatMemberHandler.CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, chat_migrated))
