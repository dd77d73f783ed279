"""/digest [/bilan] and /timezone [/fuseau]: the chat's daily digest settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from babel.dates import format_time
from telegram.constants import ChatType

from bot.context import AgoraApp
from bot.core.arguments import time_zone
from bot.core.commands import (
    DIGEST,
    DIGEST_IN_CHANNEL,
    DIGEST_IN_GROUP,
    DIGEST_NOW,
    DIGEST_OFF,
    DIGEST_ON,
    TIMEZONE,
)
from bot.core.formatting import echo, escape
from bot.core.i18n import _, current_language, current_locale, format_day_time
from bot.core.localtime import chat_time, chat_zone
from bot.core.refusals import Unclear
from bot.digests.closing import told_closed
from bot.digests.deliver import cancel_queued_digests
from bot.engine.transaction import current_unit
from handlers.common import command, current_article
from handlers.request import Request, channel_title, handles
from storage.channels import digest_chat

_TIME = re.compile(r"^([0-9]{1,2})[:hH]([0-9]{2})$")


def parse_time(text: str) -> str | None:
    """"9:05", "09:05" or "9h05" as "09:05"; None when it is not a time of day."""
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes = int(match[1]), int(match[2])
    if hours > 23 or minutes > 59:
        return None
    return f"{hours:02d}:{minutes:02d}"


async def status_text(request: Request) -> str:
    chat, context = request.chat, request.context
    settings = context.services.settings
    language = current_language()
    at = format_time(chat_time(chat, settings), format="short", locale=current_locale())
    zone = chat_zone(chat, settings).key
    where = ""
    if chat.type == ChatType.CHANNEL:
        where = " " + (
            _("It goes to the channel's discussion group.")
            if digest_chat(chat) != chat.id
            else _("It goes to the channel.")
        )
    if not chat.digest_enabled:
        return _(
            "Daily digest: <b>off</b>. Turn it on with /{digest} on, or choose its time with "
            "/{digest} 18:30. Scheduled time: {time} ({zone})."
        ).format(digest=DIGEST.name(language), time=at, zone=escape(zone)) + where
    text = _("Daily digest: <b>on</b>, every day at {time} ({zone}).").format(
        time=at, zone=escape(zone)
    ) + where
    if await told_closed(request.session, chat.id, current_article(context, chat).id):
        text += "\n" + _(
            "None for now: this article's polls are closed and the last digest gave the final "
            "results. Digests resume with the next article."
        )
    else:
        upcoming = format_day_time(context.digests.next_time(chat))
        text += "\n" + _("Next one: {when}.").format(when=upcoming)
    return text + "\n" + _(
        "Change: /{digest} off · /{digest} HH:MM · /{digest} now · /{timezone} {argument}"
    ).format(
        digest=DIGEST.name(language),
        timezone=TIMEZONE.name(language),
        argument=escape(_("<zone>")),
    )


@handles(DIGEST)
async def digest_command(request: Request) -> None:
    """Show the digest setting, or change it (admins only in groups)."""
    chat, context = request.chat, request.context
    if not request.args:
        request.reply(await status_text(request))
        return
    word = request.args[0].strip().lower()
    new_time = parse_time(word)
    if word in DIGEST_IN_GROUP | DIGEST_IN_CHANNEL and request.on_channel:
        request.require_admin()
        await send_digest_to(request, word in DIGEST_IN_GROUP)
        return
    if word not in DIGEST_ON | DIGEST_OFF | DIGEST_NOW and new_time is None:
        raise Unclear(
            _(
                "I don't understand “{value}”. Use /{digest} on, /{digest} off, /{digest} now, "
                "or a time such as /{digest} 18:30 (00:00 to 23:59)."
            ).format(value=echo(word), digest=DIGEST.name(request.language))
        )
    request.require_admin()
    scheduler = context.digests
    if word in DIGEST_NOW:
        await scheduler.deliver_now(request.session, chat)  # TooSoon within its limit
        if request.on_channel:
            request.reply(
                _("The digest is on its way to {channel}.").format(
                    channel=channel_title(chat)
                )
            )
        return
    if word in DIGEST_OFF:
        chat.digest_enabled = False
        for destination in {chat.id, digest_chat(chat)}:
            await cancel_queued_digests(request.session, destination, datetime.now(UTC))
    else:
        chat.digest_enabled = True
        chat.digest_thread_id = request.thread  # the topic it is turned on in, in a forum
        if new_time is not None:
            chat.digest_time = new_time
    current_unit().on_commit(lambda: scheduler.arm(chat))
    request.reply(await status_text(request))


async def send_digest_to(request: Request, discussion: bool) -> None:
    """Where a channel's digest goes: its discussion group, or the channel itself."""
    channel = request.chat
    if discussion and channel.discussion_id is None:
        raise Unclear(
            _("{channel} has no discussion group: its digest goes to the channel.").format(
                channel=channel_title(channel)
            )
        )
    channel.digest_in_discussion = discussion
    request.reply(await status_text(request))


@handles(TIMEZONE)
async def timezone_command(request: Request) -> None:
    """Show or set the chat's time zone (IANA name; admins only in groups)."""
    chat, context, language = request.chat, request.context, request.language
    if not request.args:
        zone = request.zone
        now = format_time(
            context.digests.clock(), format="short", tzinfo=zone, locale=current_locale()
        )
        request.reply(
            _("Time zone: {zone} (local time: {now}). Change it with /{timezone} Europe/Paris.")
            .format(zone=escape(zone.key), now=now, timezone=TIMEZONE.name(language))
        )
        return
    request.require_admin()
    name = request.args[0].strip()
    chosen = time_zone(name)
    if chosen is None:
        raise Unclear(
            _(
                "I don't know the time zone “{zone}”. Write it as Continent/City, for example "
                "Europe/Paris, America/Montreal or Africa/Dakar."
            ).format(zone=echo(name, 64))
        )
    chat.timezone = chosen.key
    scheduler = context.digests
    current_unit().on_commit(lambda: scheduler.arm(chat))
    request.reply(await status_text(request))


def register(app: AgoraApp) -> None:
    app.add_handler(command(DIGEST.names, digest_command))
    app.add_handler(command(TIMEZONE.names, timezone_command))
