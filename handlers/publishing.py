"""/publish [/publier] in a private chat: the article posted in a linked channel, and the
deep links under its summary.

`/publish @name` posts the article's summary, with two buttons, then its questions as polls
(anonymous: Telegram allows no other kind in a channel), once per article. "Results" opens
the private chat with the channel's results (`/start results_<id>`); "Answer in person"
(`/start answer_<id>`) posts the questions there as named polls, whose answers count among
the channel's identified respondents. The results are public: anyone may ask
`/results @name`.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import CommandHandler, filters

from bot.articles.announcements import published
from bot.context import AgoraApp
from bot.core.commands import CHANNEL, PUBLISH, RESULTS
from bot.core.content import Article
from bot.core.formatting import echo, escape
from bot.core.i18n import _, current_language, using_language
from bot.core.localtime import chat_language
from bot.core.refusals import Unclear
from bot.engine import outbox
from bot.engine.channels import channel_reference
from bot.engine.effects import RecordSummary
from bot.engine.outbox import queued_polls
from handlers.channels import named, reference_of, usable
from handlers.common import command, current_article
from handlers.polls import queue_questions
from handlers.request import Request, channel_handle, handles, no_such_channel
from handlers.results import channel_results
from handlers.summary import summary_text
from storage.channels import count_in_person, find_channel
from storage.models import Chat
from storage.polls import first_poll_message

AUTO_WORDS = frozenset({"auto", "automatic", "automatique"})
MANUAL_WORDS = frozenset({"manual", "manuel", "off"})
RESULTS_PAYLOAD = "results_"  # /start results_<channel id>: a channel's results, in private
# /start answer_<channel id>: the channel's questions as named polls, in private, counted
# among the channel's identified respondents.
IN_PERSON_PAYLOAD = "answer_"


@handles(PUBLISH)
async def publish_command(request: Request) -> None:
    """Post the channel's article and its polls in the channel, once per article."""
    user = request.user
    if user is None:
        return
    reference = reference_of(request, PUBLISH)
    channel = await find_channel(request.session, reference)
    if channel is None:
        raise Unclear(
            _("{channel} is not linked to Agora yet: send /{command} {typed} first.").format(
                channel=echo(request.args[0]),
                command=CHANNEL.name(request.language),
                typed=echo(request.args[0]),
            )
        )
    # Rights are asked of Telegram again (at most a minute old): they may have changed.
    usable(request.context.services.channels.facts(channel.id), request.args[0], user.id)
    if not channel.active:
        channel.active = True  # Telegram says Agora may post there again
    mode = publish_mode(request.args[1:], request.language)
    if mode is not None:
        channel.publish_auto = mode
        request.reply(mode_text(channel, mode, request.language))
    article = current_article(request.context, channel)
    results = RESULTS.name(request.language)
    name = escape(channel_handle(channel))
    if await published(request.session, channel.id, article.id):
        if mode is not None:
            return  # the mode was what was asked
        request.reply(
            _("The polls of “{article}” are already published in {channel}. Results: "
              "/{results} {name}").format(
                article=escape(article.title[request.language]),
                channel=named(channel),
                results=results,
                name=name,
            )
        )
        return
    language = chat_language(channel, request.context.services.settings)
    with using_language(language):
        publish(request.context.bot, channel, article, language)
    request.reply(
        _("📣 Publishing in {channel}: the summary of “{article}”, then its {count} questions "
          "as polls. They are anonymous (Telegram allows no other kind in a channel): Agora "
          "counts their totals. Results: /{results} {name}").format(
            channel=named(channel),
            article=escape(article.title[request.language]),
            count=len(article.questions),
            results=results,
            name=name,
        )
    )


def publish_mode(words: list[str], language: str) -> bool | None:
    """What `/publish @name auto|manual` asks: True (each new article as it appears), False
    (only when asked), None (nothing said); Unclear for another word."""
    if not words:
        return None
    word = words[0].strip().lower()
    if word in AUTO_WORDS:
        return True
    if word in MANUAL_WORDS:
        return False
    raise Unclear(
        _("I don't understand “{value}”. Use /{publish} @name, /{publish} @name {auto} or "
          "/{publish} @name {manual}.").format(
            value=echo(words[0]), publish=PUBLISH.name(language), auto=_("auto"),
            manual=_("manual"),
        )
    )


def mode_text(channel: Chat, automatic: bool, language: str) -> str:
    if automatic:
        return _(
            "From now on each new article is published in {channel} as it appears (between "
            "08:00 and 22:00 in the channel's time zone). To stop: /{publish} {name} {manual}"
        ).format(
            channel=named(channel),
            publish=PUBLISH.name(language),
            name=escape(channel_handle(channel)),
            manual=_("manual"),
        )
    return _("New articles are no longer published in {channel} unless you ask.").format(
        channel=named(channel)
    )


def channel_publisher(bot: Bot) -> Callable[[Chat, Article], None]:
    """What the announcements call to publish a new article in a channel."""
    return lambda channel, article: publish(bot, channel, article, current_language())


def publish(bot: Bot, channel: Chat, article: Article, language: str) -> None:
    """Queue the summary post (with its results button), then the polls, in the channel."""
    start = f"https://t.me/{bot.username}?start="
    keyboard = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(
                _("🙋 Answer in person"), url=f"{start}{IN_PERSON_PAYLOAD}{channel.id}"
            ),
            InlineKeyboardButton(_("📊 Results"), url=f"{start}{RESULTS_PAYLOAD}{channel.id}"),
        ]]
    )
    text = summary_text(
        article,
        _("Answer the questions below: the polls are anonymous. To be counted person by "
          "person, answer in private instead (“Answer in person”). The results, with their "
          "margins of error: “Results”."),
    )
    outbox.send_text(channel.id, text, reply_markup=keyboard, effect=RecordSummary(article.id))
    queue_questions(channel.id, None, article, language, anonymous=True)


@handles()
async def start_results(request: Request) -> None:
    """/start results_<id>: the button under a channel's summary, in private."""
    payload = request.args[0].removeprefix(RESULTS_PAYLOAD) if request.args else ""
    reference = channel_reference(payload)
    await channel_results(request, reference if isinstance(reference, int) else 0)


@handles()
async def start_in_person(request: Request) -> None:
    """/start answer_<id>: the channel's questions as named polls in the person's private
    chat; their answers count among the channel's identified respondents. A person counts
    for one channel: following another channel's link moves their answers to it."""
    payload = request.args[0].removeprefix(IN_PERSON_PAYLOAD) if request.args else ""
    reference = channel_reference(payload)
    channel = await find_channel(request.session, reference) if isinstance(reference, int) else None
    if channel is None:
        raise no_such_channel()
    article, here = current_article(request.context, channel), request.chat.id
    language, results = request.language, RESULTS.name(request.language)
    name = escape(channel_handle(channel))
    first = await first_poll_message(request.session, here, article.id)
    if first is not None:
        await count_in_person(request.session, here, article.id, channel.id)
        outbox.send_text(
            here,
            _("Your answers to “{article}” count for {channel} from now on (a person counts "
              "for one channel only). Here is your first poll. Results: /{results} {name}")
            .format(
                article=escape(article.title[language]),
                channel=named(channel),
                results=results,
                name=name,
            ),
            reply_to=first if first > 0 else None,
        )
        return
    if await queued_polls(request.session, here, article.id):
        request.reply(
            _("Your polls are on their way. Results: /{results} {name}").format(
                results=results, name=name
            )
        )
        return
    request.reply(
        _("🙋 You answer “{article}” for {channel}, in person: your answers count among its "
          "identified respondents, as numbers only (your name is never shown). You can "
          "change an answer at any time. Results: /{results} {name}").format(
            article=escape(article.title[language]),
            channel=named(channel),
            results=results,
            name=name,
        )
    )
    queue_questions(here, None, article, language, anonymous=False, via=channel.id)


def register(app: AgoraApp) -> None:
    # Before /help's /start: a /start that carries a channel's results payload.
    starting = (
        filters.UpdateType.MESSAGE
        & filters.ChatType.PRIVATE
        & filters.Regex(rf"^/start(@\w+)? {RESULTS_PAYLOAD}")
    )
    app.add_handler(CommandHandler("start", start_results, filters=starting))
    answering = (
        filters.UpdateType.MESSAGE
        & filters.ChatType.PRIVATE
        & filters.Regex(rf"^/start(@\w+)? {IN_PERSON_PAYLOAD}")
    )
    app.add_handler(CommandHandler("start", start_in_person, filters=answering))
    app.add_handler(command(PUBLISH.names, publish_command))
