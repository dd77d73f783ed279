"""Opinions: replies to polls and summaries, /opinion, the paginated listing, moderation,
the CSV export and the right to be forgotten."""

from __future__ import annotations

import logging
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

from babel.dates import format_datetime, format_time
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import outbox
from bot.arguments import number
from bot.callbacks import Callback, decode, encode
from bot.commands import DELETE, EXPORT, FORGETME, OPINION, OPINIONS, SUMMARY
from bot.content import Article
from bot.export import Cell, CsvFile
from bot.formatting import MESSAGE_LIMIT, Pages, escape, telegram_length, utf16_length
from bot.i18n import _, current_language, format_number, ngettext
from bot.scheduler import chat_zone
from bot.services import services
from bot.transaction import current_unit, with_session
from handlers.common import (
    answer_query,
    command,
    current_article,
    edit_query_message,
    is_admin,
    reply,
    stored_chat,
    thread_of,
)
from storage.ballots import Answer
from storage.models import INTEGER_MAX, Chat, Opinion
from storage.opinions import (
    ListedOpinion,
    Target,
    add_opinion,
    chat_ballots,
    chat_opinions,
    count_ballots,
    count_opinions,
    delete_user_opinions,
    listed_opinions,
    opinion_by_id,
    opinion_by_message,
    recent_opinions,
    reply_target,
    user_ballots,
)
from storage.queries import article_results

log = logging.getLogger(__name__)

MIN_LENGTH, MAX_LENGTH = 3, 1000
RATE_COUNT, RATE_WINDOW = 5, timedelta(minutes=10)
REACTION = "👍"
WIDEST_PAGE = 999_999  # the listing's header is measured as "(page 999999 of 999999)"


def _when(
    moment: datetime, chat: Chat, context: ContextTypes.DEFAULT_TYPE, time_only: bool = False
) -> str:
    zone = chat_zone(chat, services(context).settings)
    if time_only:
        return str(format_time(moment, format="short", tzinfo=zone, locale=current_language()))
    return str(format_datetime(moment, format="short", tzinfo=zone, locale=current_language()))


def _widest_when(chat: Chat, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The most UTF-16 units a date written by `_when` takes in the chat's language (two-digit
    months, days and hours). Listings measure each date at this width: formatting every
    opinion's date just to measure it would cost more than the rest of the listing."""
    zone = chat_zone(chat, services(context).settings)
    return max(
        utf16_length(_when(datetime(2099, 12, 31, hour, 59, tzinfo=zone), chat, context))
        for hour in (10, 12, 23)
    )


def author_of(message: Message) -> tuple[int, str] | None:
    """Who wrote the message: the channel or the group itself for "send as" and anonymous
    administrators (whose user account is shared by all of them), else the person."""
    if message.sender_chat is not None:
        return message.sender_chat.id, message.sender_chat.effective_name or ""
    if message.from_user is not None:
        return message.from_user.id, message.from_user.first_name
    return None


def opinion_text(message: Message) -> str:
    """The opinion in a message: its text, without the command that introduced it."""
    text = message.text or ""
    if text.startswith("/"):
        text = text.partition(" ")[2] if " " in text else ""
    return text.strip()


def check_text(update: Update, text: str) -> bool:
    """Whether the text can be an opinion; if not, say why."""
    if len(text) < MIN_LENGTH:
        reply(update, _("An opinion needs at least {min} characters.").format(min=MIN_LENGTH))
        return False
    if len(text) > MAX_LENGTH:
        reply(
            update,
            _(
                "An opinion is limited to {max} characters (yours has {length}). Please shorten it."
            ).format(max=MAX_LENGTH, length=len(text)),
        )
        return False
    return True


def acknowledge(update: Update) -> None:
    """A reaction on the author's message; a short reply if reactions are not possible."""
    message = update.effective_message
    assert message is not None
    thanks = _("Thank you, your opinion is recorded.")
    outbox.react(
        message.chat_id,
        message.message_id,
        REACTION,
        fallback=outbox.text_payload(thanks, thread=thread_of(update)),
    )


async def record(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE, target: Target
) -> None:
    message = update.effective_message
    assert message is not None
    assert update.effective_chat is not None
    author = author_of(message)
    if author is None:
        return
    author_id, author_name = author
    text = opinion_text(message)
    if not check_text(update, text):
        return
    chat = await stored_chat(session, update.effective_chat)
    if await opinion_by_message(session, chat.id, message.message_id) is not None:
        return  # already stored (a redelivered update)
    recent = await recent_opinions(session, chat.id, author_id, message.date - RATE_WINDOW)
    if len(recent) >= RATE_COUNT:
        again = recent[-RATE_COUNT] + RATE_WINDOW
        reply(
            update,
            _(
                "You have shared {count} opinions in the last 10 minutes. You can post again "
                "at {time}."
            ).format(count=RATE_COUNT, time=_when(again, chat, context, time_only=True)),
        )
        return
    await add_opinion(
        session,
        Opinion(
            chat_id=chat.id,
            message_id=message.message_id,
            article_id=target.article_id,
            question_key=target.question_key,
            user_id=author_id,
            author=author_name[:128],
            text=text,
            created_at=message.date,
        ),
    )
    acknowledge(update)


@with_session
async def reply_to_bot(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """A reply to one of the bot's polls or summaries is an opinion on that question."""
    message = update.effective_message
    assert message is not None
    assert message.reply_to_message is not None
    replied = message.reply_to_message
    if replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    target = await reply_target(session, message.chat_id, replied.message_id)
    if target is None:
        if message.chat.type == ChatType.PRIVATE:
            language = current_language()
            reply(
                update,
                _(
                    "To give your opinion, reply to a poll or to the summary (/{summary}), or "
                    "write /{opinion} followed by your text."
                ).format(summary=SUMMARY.name(language), opinion=OPINION.name(language)),
            )
        return
    await record(session, update, context, target)


@with_session
async def opinion_command(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """/opinion <text>: an opinion on the article; without text, the latest opinions."""
    message = update.effective_message
    assert message is not None
    assert update.effective_chat is not None
    if not context.args:
        await send_listing(session, update, context, page=0)
        return
    chat = await stored_chat(session, update.effective_chat)
    await record(session, update, context, Target(current_article(context, chat).id, None))


@with_session
async def opinions_command(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """List the latest opinions on the chat's article."""
    await send_listing(session, update, context, page=0)


@with_session
async def opinion_edited(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Editing an opinion's message updates the stored opinion."""
    message = update.edited_message
    assert message is not None
    opinion = await opinion_by_message(session, message.chat_id, message.message_id)
    if opinion is None:
        return
    text = opinion_text(message)
    if not check_text(update, text):
        return
    opinion.text = text
    opinion.edited_at = message.edit_date or datetime.now(UTC)


# -- listing -------------------------------------------------------------------------------


def listing_header(article: Article, page: int, pages: int) -> str:
    header = "💬 <b>{}</b>".format(
        escape(_("Opinions — {title}").format(title=article.title[current_language()]))
    )
    if pages > 1:
        header += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    return header


def heading_block(article: Article, key: str | None) -> str:
    """The title of a group of opinions: a question, or the whole article."""
    question = article.question(key) if key else None
    if question is None:
        title = _("On the article")
    else:
        number = [q.key for q in article.questions].index(question.key) + 1
        title = f"{number}. {question.text[current_language()]}"
    return f"\n\n<b>{escape(title)}</b>"


def entry_block(opinion: ListedOpinion, when: str) -> str:
    number = _("#{id}").format(id=opinion.id)
    return f"\n<i>{number} · {escape(opinion.author)}, {when}</i>\n{escape(opinion.text)}"


def listing_text(
    article: Article,
    opinions: list[ListedOpinion],
    page: int,
    pages: int,
    chat: Chat,
    context: ContextTypes.DEFAULT_TYPE,
) -> str:
    """One page of the listing: its header, then its opinions, each group of opinions on
    one question under that question's title (repeated at the top of each page)."""
    text = listing_header(article, page, pages)
    if not opinions:
        return (
            text
            + "\n"
            + _(
                "No opinion yet. Reply to a poll or to the summary, or write /{opinion} "
                "followed by your text."
            ).format(opinion=OPINION.name(current_language()))
        )
    blocks = []
    for index, opinion in enumerate(opinions):
        if index == 0 or opinion.question_key != opinions[index - 1].question_key:
            blocks.append(heading_block(article, opinion.question_key))
        blocks.append(entry_block(opinion, _when(opinion.created_at, chat, context)))
    return text + "".join(blocks)


def listing_keyboard(article: Article, page: int, pages: int) -> InlineKeyboardMarkup | None:
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton(
                "◀ " + _("Newer"), callback_data=encode(Callback.OPINIONS, article.id, page - 1)
            )
        )
    if page + 1 < pages:
        buttons.append(
            InlineKeyboardButton(
                _("Older") + " ▶", callback_data=encode(Callback.OPINIONS, article.id, page + 1)
            )
        )
    return InlineKeyboardMarkup([buttons]) if buttons else None


async def listing(
    session: AsyncSession, context: ContextTypes.DEFAULT_TYPE, chat: Chat, page: int
) -> tuple[str, InlineKeyboardMarkup | None, int]:
    """Page `page` of the chat's listing, its buttons, and how many pages there are.

    Pages are cut by size: each holds as many opinions as fit in one message, counted as
    Telegram counts (see bot.formatting.telegram_length), with the page's header measured
    at its widest and each date at its widest. Every opinion is measured, in listing order,
    so that page k always holds the same opinions for the same data."""
    article = current_article(context, chat)
    keys = [q.key for q in article.questions]
    header = telegram_length(listing_header(article, WIDEST_PAGE, WIDEST_PAGE))
    when = _widest_when(chat, context)
    headings: dict[str | None, int] = {}
    pages = Pages(MESSAGE_LIMIT - header)
    shown: list[ListedOpinion] = []
    previous: ListedOpinion | None = None
    async for opinion in listed_opinions(session, chat.id, article.id, keys):
        key = opinion.question_key
        if key not in headings:
            headings[key] = telegram_length(heading_block(article, key))
        entry = telegram_length(entry_block(opinion, "")) + when
        new_group = previous is None or previous.question_key != key
        alone = headings[key] + entry
        if pages.add(alone, alone if new_group else entry) == page:
            shown.append(opinion)
        previous = opinion
    count = max(1, pages.count)
    text = listing_text(article, shown, page, count, chat, context)
    return text, listing_keyboard(article, page, count), count


async def send_listing(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE, page: int
) -> None:
    assert update.effective_chat is not None
    chat = await stored_chat(session, update.effective_chat)
    text, keyboard, _pages = await listing(session, context, chat, page)
    reply(update, text, reply_markup=keyboard)


@with_session
async def listing_page(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Turn the pages of an opinion listing; an outdated or forged button changes nothing."""
    query = update.callback_query
    assert query is not None
    fields = decode(Callback.OPINIONS, query.data, 2)
    chat = await stored_chat(session, update.effective_chat) if update.effective_chat else None
    page_number = number(fields[1]) if fields is not None else None
    if fields is None or chat is None or page_number is None:
        answer_query(update, _("This button is no longer valid."))
        return
    article_id, page = fields[0], page_number
    if article_id != current_article(context, chat).id:
        answer_query(update, _("This button is no longer valid."))
        return
    text, keyboard, pages = await listing(session, context, chat, page)
    if page >= pages:
        answer_query(update, _("This button is no longer valid."))
        return
    answer_query(update)
    await edit_query_message(session, update, text, keyboard)


# -- moderation ----------------------------------------------------------------------------


@with_session
async def delete_command(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Remove an opinion: in reply to it, or by its number (admins, or its author)."""
    message = update.effective_message
    assert message is not None
    assert update.effective_chat is not None
    language = current_language()
    chat = await stored_chat(session, update.effective_chat)
    opinion = None
    given = number(context.args[0].removeprefix("#"), INTEGER_MAX) if context.args else None
    if given is not None:
        opinion = await opinion_by_id(session, chat.id, given)
    elif message.reply_to_message is not None:
        opinion = await opinion_by_message(session, chat.id, message.reply_to_message.message_id)
    if opinion is None:
        reply(
            update,
            _(
                "Reply with /{delete} to the opinion to remove, or give its number from "
                "/{opinions}: /{delete} 12."
            ).format(delete=DELETE.name(language), opinions=OPINIONS.name(language)),
        )
        return
    author = author_of(message)
    is_author = author is not None and author[0] == opinion.user_id
    if not is_author and not is_admin(update, context):
        reply(
            update, _("Only the group's administrators or its author can remove an opinion.")
        )
        return
    await session.delete(opinion)
    reply(update, _("Opinion #{id} removed.").format(id=opinion.id))


# -- export --------------------------------------------------------------------------------


@with_session
async def export_command(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Send this chat's results and opinions as a CSV file (admins only in groups)."""
    assert update.effective_chat is not None
    if not is_admin(update, context):
        reply(
            update, _("Only the group's administrators can export the results: ask one of them.")
        )
        return
    chat = await stored_chat(session, update.effective_chat)
    article = current_article(context, chat)
    language = current_language()
    keys = [q.key for q in article.questions]
    # What spreadsheets expect in each locale; the file is capped (see bot.export).
    table = CsvFile(";" if language == "fr" else ",")
    table.add(
        [
            _("type"),
            _("number"),
            _("question"),
            _("option"),
            _("votes"),
            _("voters"),
            _("author"),
            _("date"),
            _("text"),
        ]
    )
    numbers = {key: n for n, key in enumerate(keys, 1)}
    tallies = await article_results(session, article.id, chat.id)
    for question in article.questions:
        tally = tallies.get(question.key)
        for index, option in enumerate(question.options[language]):
            table.add(
                [
                    _("result"),
                    numbers[question.key],
                    question.text[language],
                    option,
                    tally.votes.get(index, 0) if tally else 0,
                    tally.voters if tally else 0,
                    "",
                    "",
                    "",
                ]
            )
    # Opinions before the named answers: under the cap, what is cut is the bulk whose counts
    # the result rows already give.
    answers = opinions = 0
    async with aclosing(chat_opinions(session, chat.id, article.id)) as listed:
        async for opinion in listed:
            about = article.question(opinion.question_key) if opinion.question_key else None
            row: list[Cell] = [
                _("opinion"),
                numbers[about.key] if about else "",
                about.text[language] if about else _("On the article"),
                "",
                "",
                "",
                opinion.author,
                _iso(opinion.created_at, chat, context),
                opinion.text,
            ]
            if not table.add(row):
                break
            opinions += 1
    if not table.full:
        async with aclosing(chat_ballots(session, chat.id, article.id, keys)) as ballots:
            async for ballot in ballots:
                asked = article.question(ballot.question_key)
                assert asked is not None  # only the article's questions are read
                row = [
                    _("answer"),
                    numbers[asked.key],
                    asked.text[language],
                    " | ".join(asked.options[language][i] for i in ballot.options),
                    "",
                    "",
                    ballot.voter_name or "",
                    _iso(ballot.answered_at, chat, context),
                    "",
                ]
                if not table.add(row):
                    break
                answers += 1
    caption = _("Results and opinions — {title}").format(title=article.title[language])
    note: list[Cell] | None = None
    if table.full:
        left_answers = max(0, await count_ballots(session, chat.id, article.id, keys) - answers)
        left_opinions = max(0, await count_opinions(session, chat.id, article.id) - opinions)
        cut = _(
            "Incomplete file: an export stops at {size} MB; {answers} and {opinions} are not "
            "included."
        ).format(
            size=format_number(table.limit / 1024 / 1024),
            answers=ngettext("{count} answer", "{count} answers", left_answers).format(
                count=format_number(left_answers)
            ),
            opinions=ngettext("{count} opinion", "{count} opinions", left_opinions).format(
                count=format_number(left_opinions)
            ),
        )
        note = [_("note"), "", "", "", "", "", "", "", cut]
        caption += "\n" + cut
    day = datetime.now(UTC).astimezone(chat_zone(chat, services(context).settings)).date()
    outbox.send_document(
        chat.id,
        table.finish(note),
        f"agora-{article.id}-{day.isoformat()}.csv",
        caption,
        thread=thread_of(update),
    )


def _iso(moment: datetime, chat: Chat, context: ContextTypes.DEFAULT_TYPE) -> str:
    zone = chat_zone(chat, services(context).settings)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


# -- forget me -----------------------------------------------------------------------------


@with_session
async def forget_command(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Ask for confirmation before deleting everything the user gave the bot."""
    user = update.effective_user
    if user is None:
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Yes, delete everything"),
                    callback_data=encode(Callback.FORGET, user.id, "yes"),
                ),
                InlineKeyboardButton(
                    _("Cancel"), callback_data=encode(Callback.FORGET, user.id, "no")
                ),
            ]
        ]
    )
    reply(
        update,
        _(
            "This deletes all your votes and opinions, in every chat, and cannot be undone. "
            "Are you sure, {name}?"
        ).format(name=escape(user.first_name)),
        reply_markup=keyboard,
    )


@with_session
async def forget_button(
    session: AsyncSession, update: Update, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Carry out (or cancel) a /forgetme once its author confirms."""
    query = update.callback_query
    assert query is not None
    fields = decode(Callback.FORGET, query.data, 2)
    asker = number(fields[0]) if fields is not None else None
    if fields is None or asker is None or fields[1] not in {"yes", "no"}:
        answer_query(update, _("This button is no longer valid."))
        return
    if asker != query.from_user.id:
        answer_query(update, _("Only the person who asked can answer this."), show_alert=True)
        return
    if fields[1] == "no":
        answer_query(update)
        await edit_query_message(session, update, _("Nothing was deleted."))
        return
    unit = current_unit()
    polls = await user_ballots(session, query.from_user.id)
    now = datetime.now(UTC)
    for poll_id in polls:
        unit.answers.add(Answer(poll_id, query.from_user.id, (), (), now))
    await unit.answers.apply(session)
    opinions = await delete_user_opinions(session, query.from_user.id)
    answer_query(update)
    await edit_query_message(session, update, 
        _("Done: {votes} and {opinions} deleted.").format(
            votes=ngettext("{count} vote", "{count} votes", len(polls)).format(count=len(polls)),
            opinions=ngettext("{count} opinion", "{count} opinions", opinions).format(
                count=opinions
            ),
        )
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(command(OPINION.names, opinion_command))
    app.add_handler(command(OPINIONS.names, opinions_command))
    app.add_handler(command(DELETE.names, delete_command))
    app.add_handler(command(EXPORT.names, export_command))
    app.add_handler(command(FORGETME.names, forget_command))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.REPLY & filters.TEXT & ~filters.COMMAND,
            reply_to_bot,
        )
    )
    app.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, opinion_edited)
    )
    app.add_handler(CallbackQueryHandler(listing_page, pattern=Callback.OPINIONS.pattern))
    app.add_handler(CallbackQueryHandler(forget_button, pattern=Callback.FORGET.pattern))
