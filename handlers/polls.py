"""/poll [/sondage]: post the article's questions as native polls; store every answer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import PollAnswerHandler, PollHandler

from bot.context import AgoraApp, AgoraContext
from bot.core.callbacks import Callback, encode
from bot.core.commands import ANONYMOUS_WORDS, CLOSE, HIDDEN_WORDS, POLL, RESULTS
from bot.core.content import Article
from bot.core.formatting import echo, escape
from bot.core.i18n import _, current_language
from bot.core.refusals import Unclear
from bot.engine import outbox
from bot.engine.effects import RecordPoll
from bot.engine.outbox import queued_polls
from bot.engine.transaction import current_unit
from handlers.common import command, is_admin
from handlers.request import Received, Request, handles, receives
from storage.ballots import Answer
from storage.closes import ensure_close, get_close
from storage.polls import first_poll_message, record_poll_counts

log = logging.getLogger(__name__)


def poll_options(words: list[str]) -> tuple[bool, bool]:
    """Whether /poll's arguments ask for anonymous polls, and for results hidden until the
    close (Unclear if they are not options)."""
    arguments = [word.lower() for word in words]
    unknown = [word for word in arguments if word not in ANONYMOUS_WORDS | HIDDEN_WORDS]
    if unknown:
        raise Unclear(
            _("Unknown option “{option}”. Use /{poll}, /{poll} {anonymous} or /{poll} {hidden}.")
            .format(
                option=echo(unknown[0]),
                poll=POLL.name(current_language()),
                anonymous=_("anonymous"),
                hidden=_("hidden"),
            )
        )
    return bool(set(arguments) & ANONYMOUS_WORDS), bool(set(arguments) & HIDDEN_WORDS)


def round_flags(anonymous: bool, hidden: bool) -> str:
    """How a round button carries /poll's options."""
    return ("a" if anonymous else "") + ("h" if hidden else "") or "-"


def ask_next_round(request: Request, next_round: int, anonymous: bool, hidden: bool) -> None:
    """After a close, ask an admin whether to open the next round of the same questions."""
    flags = round_flags(anonymous, hidden)
    keyboard = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(
                _("Open round {number}").format(number=next_round),
                callback_data=encode(Callback.ROUND, next_round, flags, "yes"),
            ),
            InlineKeyboardButton(
                _("Keep them closed"),
                callback_data=encode(Callback.ROUND, next_round, flags, "no"),
            ),
        ]]
    )
    request.reply(
        _(
            "The polls of this article are closed in this chat (final results: /{results}). "
            "Open round {number}: the same questions as new polls? Its results will be shown "
            "beside round {previous}'s; the votes of the two rounds are never mixed."
        ).format(
            results=RESULTS.name(request.language), number=next_round, previous=next_round - 1
        ),
        reply_markup=keyboard,
    )


async def already_posted(
    request: Request, article: Article, anonymous: bool = False, hidden: bool = False
) -> bool:
    """Whether the article's polls are in the chat already, or on their way (then it says so:
    a second set of polls would split the answers and count some people twice); after a
    close, an admin is asked whether to open a new round."""
    session, chat_id = request.session, request.chat.id
    results = RESULTS.name(request.language)
    first = await first_poll_message(session, chat_id, article.id)
    close = await get_close(session, chat_id, article.id)
    if close is not None and close.closed_at is not None:
        if is_admin(request.update, request.context):
            ask_next_round(request, close.round + 1, anonymous, hidden)
        else:
            request.reply(
                _("The polls of this article are closed in this chat. Final results: "
                  "/{results}").format(results=results)
            )
    elif first is not None and first > 0:
        outbox.send_text(
            chat_id,
            _("The polls of this article are already posted in this chat (here is the first "
              "one). Results: /{results}").format(results=results),
            thread=request.thread,
            reply_to=first,
        )
    elif first is not None:  # posted before the group became a supergroup: no message to show
        request.reply(
            _("The polls of this article are already posted in this chat. Results: "
              "/{results}").format(results=results)
        )
    elif await queued_polls(session, chat_id, article.id):
        request.reply(
            _("The polls of this article are being posted in this chat. Results: /{results}")
            .format(results=results)
        )
    else:
        return False
    return True


@handles(POLL)
async def post_polls(request: Request) -> None:
    """Post every closing question of the chat's article as a poll (admins only in groups)."""
    language, article, chat_id = request.language, request.article, request.chat.id
    anonymous, hidden = poll_options(request.args)
    if await already_posted(request, article, anonymous, hidden):
        return
    request.require_admin()  # members are first shown the polls, if posted
    if hidden:
        (await ensure_close(request.session, chat_id, article.id)).hidden = True
    queue_polls(chat_id, request.thread, article, language, anonymous, hidden)


def queue_polls(
    chat_id: int,
    thread: int | None,
    article: Article,
    language: str,
    anonymous: bool,
    hidden: bool,
    round_number: int = 1,
) -> None:
    """Queue the introduction, then every question of the article as a poll, in the chat."""
    title = escape(article.title[language])
    if round_number > 1:
        title += " — " + _("round {number}").format(number=round_number)
    intro = (
        _("Anonymous polls: only the totals are counted.")
        if anonymous
        else _("Your answers are visible to the group and counted; you can change them.")
    )
    if hidden:
        intro += "\n" + _("The results stay hidden until the polls close (/{close}).").format(
            close=CLOSE.name(language)
        )
    hint = _("Reply to a poll to give your opinion · Results: /{results}").format(
        results=RESULTS.name(language)
    )
    outbox.send_text(chat_id, f"🗳 <b>{title}</b>\n{intro}\n{hint}", thread=thread)
    queue_questions(chat_id, thread, article, language, anonymous, hidden, round_number)


def queue_questions(
    chat_id: int,
    thread: int | None,
    article: Article,
    language: str,
    anonymous: bool,
    hidden: bool = False,
    round_number: int = 1,
    via: int | None = None,
) -> None:
    """Queue every question of the article as a poll, in the chat (`via`: a private chat's,
    for the channel whose link the person followed)."""
    for question in article.questions:
        # Each poll is recorded by the sender as soon as it is out (see bot.engine.sending).
        outbox.send_poll(
            chat_id,
            question.text[language],
            list(question.options[language]),
            anonymous=anonymous,
            multiple=question.multiple,
            hidden=hidden,
            thread=thread,
            effect=RecordPoll(
                article.id,
                question.key,
                language,
                anonymous,
                question.multiple,
                round_number,
                via,
            ),
        )


async def store_answer(update: Update, context: AgoraContext) -> None:
    """Queue a named answer for this batch: a change replaces, an empty one retracts."""
    answer = update.poll_answer
    assert answer is not None
    if answer.user is not None:
        voter, name = answer.user.id, answer.user.full_name
    elif answer.voter_chat is not None:  # an anonymous admin votes as the chat
        voter, name = answer.voter_chat.id, answer.voter_chat.effective_name or ""
    else:
        return
    current_unit().answers.add(
        Answer(
            poll_id=answer.poll_id,
            user_id=voter,
            persistent_ids=answer.option_persistent_ids,
            positions=answer.option_ids,
            answered_at=datetime.now(UTC),
            voter_name=name[:128],
            update_id=update.update_id,
        )
    )


def _ints(value: object) -> tuple[int, ...] | None:
    if isinstance(value, list) and all(type(v) is int for v in value):
        return tuple(value)
    return None


def _strs(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def answer_from_json(raw: dict[str, object]) -> Answer | None:
    """The Answer `store_answer` would queue for this update as received (a dict), read
    without python-telegram-bot, the hot path of a vote storm: only for an update that is a
    plain named answer, well formed; None for anything else (an anonymous admin with an
    unusual chat, a field missing or of another type, another kind of update), which then
    takes the ordinary way (parsed, and handled by the application's handlers)."""
    if len(raw) != 2 or type(raw.get("update_id")) is not int:
        return None
    answer = raw.get("poll_answer")
    if not isinstance(answer, dict):
        return None
    poll_id, user = answer.get("poll_id"), answer.get("user")
    positions, persistent = _ints(answer.get("option_ids")), _strs(
        answer.get("option_persistent_ids")
    )
    if not isinstance(poll_id, str) or positions is None or persistent is None:
        return None
    if not isinstance(user, dict) or "voter_chat" in answer:
        return None
    voter, first, last = user.get("id"), user.get("first_name"), user.get("last_name")
    if type(voter) is not int or not isinstance(user.get("is_bot"), bool):
        return None
    if not isinstance(first, str) or not first or not isinstance(last, str | None):
        return None
    name = f"{first} {last}" if last else first  # User.full_name
    return Answer(
        poll_id=poll_id,
        user_id=voter,
        persistent_ids=persistent,
        positions=positions,
        answered_at=datetime.now(UTC),
        voter_name=name[:128],
        update_id=cast(int, raw["update_id"]),  # checked above
    )


@receives
async def store_poll_state(received: Received) -> None:
    """Follow an anonymous poll through the totals Telegram reports."""
    update = received.update
    poll = update.poll
    assert poll is not None
    known = await record_poll_counts(
        received.session,
        poll_id=poll.id,
        counts={option.persistent_id: option.voter_count for option in poll.options},
        total_voters=poll.total_voter_count,
        update_id=update.update_id,
    )
    if not known:
        log.info("ignoring the state of unknown poll %s", poll.id)


def register(app: AgoraApp) -> None:
    app.add_handler(command(POLL.names, post_polls))
    app.add_handler(PollAnswerHandler(store_answer))
    app.add_handler(PollHandler(store_poll_state))
