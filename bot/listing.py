"""The opinion listing: pages cut by size as Telegram counts, each opinion under its
question, and the buttons that turn the pages (handlers/listing answers with them)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Callback, encode
from bot.commands import OPINION
from bot.content import Article
from bot.formatting import MESSAGE_LIMIT, Pages, escape, telegram_length
from bot.i18n import _, current_language
from bot.localtime import moment_text, widest_moment
from storage.opinions import ListedOpinion, listed_opinions

WIDEST_PAGE = 999_999  # the listing's header is measured as "(page 999999 of 999999)"


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
    article: Article, opinions: list[ListedOpinion], page: int, pages: int, zone: ZoneInfo
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
        blocks.append(entry_block(opinion, moment_text(opinion.created_at, zone)))
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
    session: AsyncSession, article: Article, chat_id: int, zone: ZoneInfo, page: int
) -> tuple[str, InlineKeyboardMarkup | None, int]:
    """Page `page` of the chat's listing, its buttons, and how many pages there are.

    Pages are cut by size: each holds as many opinions as fit in one message, counted as
    Telegram counts (see bot.formatting.telegram_length), with the page's header measured
    at its widest and each date at its widest. Every opinion is measured, in listing order,
    so that page k always holds the same opinions for the same data."""
    keys = [q.key for q in article.questions]
    header = telegram_length(listing_header(article, WIDEST_PAGE, WIDEST_PAGE))
    when = widest_moment(zone)
    headings: dict[str | None, int] = {}
    pages = Pages(MESSAGE_LIMIT - header)
    shown: list[ListedOpinion] = []
    previous: ListedOpinion | None = None
    async for opinion in listed_opinions(session, chat_id, article.id, keys):
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
    text = listing_text(article, shown, page, count, zone)
    return text, listing_keyboard(article, page, count), count
