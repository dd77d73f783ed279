"""/channel [/canal]: a newsroom's channel, linked to Agora by one of its administrators.

Agora posts nothing in a channel until one of its administrators links it, from a private
chat: `/channel @name` (or its numeric id) asks Telegram (bot.engine.channels) whether the
person administers the channel and whether Agora may post there, and records the link;
`/channel` alone lists the person's channels. Publishing is handlers.publishing.
"""

from __future__ import annotations

from telegram import ChatFullInfo

from bot.context import AgoraApp
from bot.core.commands import CHANNEL, POLL, PUBLISH, RESULTS, Command
from bot.core.formatting import echo, escape
from bot.core.i18n import _, current_language
from bot.core.localtime import chat_language, chat_time
from bot.core.refusals import NotAdmin, Unclear
from bot.engine.channels import ChannelFacts, channel_reference
from handlers.common import command, current_article
from handlers.request import CHANNEL_REFUSAL, Request, channel_handle, channel_title, handles
from storage.channels import link_channel, managed_channels
from storage.chats import ensure_chat
from storage.models import Chat
from storage.polls import first_poll_message


def in_private(entry: Command) -> Unclear:
    return Unclear(
        _("Channels are set up in a private chat with me: send me /{command} @name there.")
        .format(command=entry.name(current_language()))
    )


def reference_of(request: Request, entry: Command) -> str | int:
    """The channel the command's first argument names (Unclear if it names none)."""
    if not request.private:
        raise in_private(entry)
    if not request.args:
        raise Unclear(
            _("Which channel? Write /{command} @name, or the channel's numeric id (-100…).")
            .format(command=entry.name(request.language))
        )
    reference = channel_reference(request.args[0])
    if reference is None:
        raise Unclear(
            _("“{text}” is not a channel's name: write /{command} @name, or the channel's "
              "numeric id (-100…).").format(
                text=echo(request.args[0]), command=entry.name(request.language)
            )
        )
    return reference


def named(chat: ChatFullInfo | Chat) -> str:
    """A channel as messages name it: its title, and its public name if it has one."""
    title = channel_title(chat)
    return f"<b>{title}</b> (@{escape(chat.username)})" if chat.username else f"<b>{title}</b>"


def usable(facts: ChannelFacts, typed: str, user_id: int) -> ChatFullInfo:
    """The channel, if the person administers it and Agora may post in it; else a refusal
    that says what to change."""
    chat = facts.chat
    if chat is None:
        raise Unclear(
            _("I cannot find {channel}. Check the name; a private channel is found by its "
              "numeric id (-100…), once I am one of its administrators.").format(
                channel=echo(typed)
            )
        )
    if not facts.is_channel:
        raise Unclear(
            _("{chat} is not a channel. In a group, add me to it and use /{poll} there.")
            .format(chat=named(chat), poll=POLL.name(current_language()))
        )
    if not facts.bot_can_post:
        raise Unclear(
            _("I am not an administrator of {channel} allowed to post messages. In the "
              "channel's settings, add me as an administrator with the right to post "
              "messages, then send the command again.").format(channel=named(chat))
        )
    if user_id not in facts.admins:
        raise NotAdmin(CHANNEL_REFUSAL)
    return chat


async def keep_channel(request: Request, found: ChatFullInfo) -> Chat:
    """The channel's row, made or refreshed from what Telegram says of it; a new channel
    speaks the language of the person who links it."""
    article = request.context.services.library.newest.id
    channel, _reactivated = await ensure_chat(
        request.session, found.id, found.type, found.title, article
    )
    channel.username = found.username
    channel.discussion_id = found.linked_chat_id
    if channel.language is None:
        channel.language = request.language
    return channel


@handles(CHANNEL)
async def channel_command(request: Request) -> None:
    """Link a channel the person administers (`/channel @name`), or list theirs."""
    user = request.user
    if user is None:
        return
    if request.private and not request.args:
        await list_channels(request, user.id)
        return
    reference = reference_of(request, CHANNEL)
    facts = request.context.services.channels.facts(reference)
    channel = await keep_channel(request, usable(facts, request.args[0], user.id))
    await link_channel(request.session, channel, user.id)
    name = channel_handle(channel)
    text = _(
        "✅ {channel} is linked to Agora. Nothing is posted there until you ask:\n"
        "• /{publish} {name}: the article's summary, then its questions as polls;\n"
        "• /{results} {name}: the results, which anyone can ask for;\n"
        "• /{channels}: your channels and their settings."
    ).format(
        channel=named(channel),
        name=escape(name),
        publish=PUBLISH.name(request.language),
        results=RESULTS.name(request.language),
        channels=CHANNEL.name(request.language),
    )
    request.reply(text + discussion_note(facts))


def discussion_note(facts: ChannelFacts) -> str:
    """What the channel's discussion group will give, or what it needs (nothing without one)."""
    if facts.reads_discussion is None:
        return ""
    if facts.reads_discussion:
        return "\n\n" + _(
            "💬 In the channel's discussion group, a reply to the summary or to a poll is an "
            "opinion on it, shown in the channel's digest."
        )
    return "\n\n" + _(
        "💬 To collect the comments of the channel's discussion group as opinions, add me to "
        "that group as an administrator (no particular right is needed): otherwise Telegram "
        "shows me only the replies to my own messages."
    )


async def list_channels(request: Request, user_id: int) -> None:
    channels = await managed_channels(request.session, user_id)
    if not channels:
        request.reply(
            _("You have linked no channel to Agora yet. To link one, add me to the channel as "
              "an administrator allowed to post messages, then send /{channel} @name here (or "
              "the channel's numeric id).").format(channel=CHANNEL.name(request.language))
        )
        return
    lines = [_("<b>Your channels on Agora</b>")]
    for channel in channels:
        lines.append("• " + named(channel))
        lines.append("  " + await channel_settings(request, channel))
    request.reply("\n".join(lines))


async def channel_settings(request: Request, channel: Chat) -> str:
    """One line: the channel's language, article, whether it is published, its digest."""
    article = current_article(request.context, channel)
    posted = await first_poll_message(request.session, channel.id, article.id) is not None
    if not channel.active:
        state = _("⚠️ I can no longer post there: add me back as an administrator.")
    elif posted:
        state = _("polls published")
    else:
        state = _("not published yet (/{publish})").format(publish=PUBLISH.name(request.language))
    settings = request.context.services.settings
    digest = (
        _("digest at {time}").format(time=chat_time(channel, settings).strftime("%H:%M"))
        if channel.digest_enabled
        else _("no digest")
    )
    return _("{language} · “{article}” · {state} · {digest}").format(
        language=chat_language(channel, settings).upper(),
        article=escape(article.title[request.language]),
        state=state,
        digest=digest,
    )


def register(app: AgoraApp) -> None:
    app.add_handler(command(CHANNEL.names, channel_command))
