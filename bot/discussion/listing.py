"""The opinion listing: pages cut by size as Telegram counts, each opinion under its
question, and the buttons that turn the pages (handlers/listing answers with them)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.arguments import number
from bot.core.callbacks import Callback, decode, encode
from bot.core.commands import OPINION
from bot.core.content import Article
from bot.core.formatting import MESSAGE_LIMIT, escape, telegram_length
from bot.core.i18n import _, current_language
from bot.core.localtime import moment_text, widest_moment
from bot.digests.text import agreement
from bot.engine.channels import channel_reference
from storage.listing import ListedOpinion, listed_opinions, listing_key

MIN_RATERS = 3  # fewer raters than this: no counts shown (they would tell who rated how)
WIDEST_PAGE = 999_999  # the listing's header is measured as "(page 999999)"
OLDER, NEWER = "o", "n"  # a button's direction, before the id of the opinion it starts from


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page button leads: the opinions older than opinion `opinion_id` (or newer),
    shown as page `page` (from 0; a number for the header only)."""

    older: bool
    opinion_id: int
    page: int
    # A channel's listing, read in a private chat (/opinions @name): the channel's id.
    channel: int | None = None

    def encode(self) -> str:
        direction = OLDER if self.older else NEWER
        fields: list[object] = [f"{direction}{self.opinion_id}", self.page]
        if self.channel is not None:
            fields.append(self.channel)
        return encode(Callback.OPINIONS, *fields)

    @classmethod
    def decode(cls, data: str | None) -> Cursor | None:
        fields = decode(Callback.OPINIONS, data, 2) or decode(Callback.OPINIONS, data, 3)
        if fields is None or fields[0][:1] not in (OLDER, NEWER):
            return None
        opinion_id, page = number(fields[0][1:]), number(fields[1])
        if opinion_id is None or page is None:
            return None
        channel = None
        if len(fields) == 3:  # a channel's id, as /opinions @name takes it
            found = channel_reference(fields[2])
            if not isinstance(found, int):
                return None
            channel = found
        return cls(fields[0][0] == OLDER, opinion_id, page, channel)


@dataclass(frozen=True, slots=True)
class Page:
    text: str
    keyboard: InlineKeyboardMarkup | None


def listing_header(article: Article, page: int, several: bool) -> str:
    header = "💬 <b>{}</b>".format(
        escape(_("Opinions — {title}").format(title=article.title[current_language()]))
    )
    if several:
        header += " " + _("(page {page})").format(page=page + 1)
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


def agreement_text(opinion: ListedOpinion) -> str | None:
    """How its raters rated an opinion ("👍 12 · 👎 3 · 5 passed"), from MIN_RATERS on."""
    if opinion.raters < MIN_RATERS:
        return None
    return agreement(opinion.agreed, opinion.disagreed, opinion.passed)


def entry_block(opinion: ListedOpinion, when: str, agreement: bool = False) -> str:
    """One opinion; with `agreement` (in a group), how it was rated."""
    number = _("#{id}").format(id=opinion.id)
    block = f"\n<i>{number} · {escape(opinion.author)}, {when}</i>\n{escape(opinion.text)}"
    rated = agreement_text(opinion) if agreement else None
    return f"{block}\n{rated}" if rated else block


@dataclass(frozen=True, slots=True)
class Shown:
    """How the listing is shown: its article, dates in `zone`; in a group, `rate` is the
    button to rate the opinions in private, and each opinion's agreement is shown."""

    article: Article
    zone: ZoneInfo
    rate: InlineKeyboardButton | None = None
    channel: int | None = None  # a channel's listing, read in private: its page buttons say so

    def entry(self, opinion: ListedOpinion, when: str) -> str:
        return entry_block(opinion, when, agreement=self.rate is not None)


def listing_text(shown: Shown, opinions: list[ListedOpinion], page: int, several: bool) -> str:
    """One page of the listing: its header, then its opinions, each group of opinions on
    one question under that question's title (repeated at the top of each page)."""
    article = shown.article
    text = listing_header(article, page, several)
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
        blocks.append(shown.entry(opinion, moment_text(opinion.created_at, shown.zone)))
    return text + "".join(blocks)


def listing_keyboard(
    shown: Shown, opinions: list[ListedOpinion], page: int, newer: bool, older: bool
) -> InlineKeyboardMarkup | None:
    buttons = []
    if newer:
        cursor = Cursor(False, opinions[0].id, page - 1, shown.channel)
        buttons.append(InlineKeyboardButton("◀ " + _("Newer"), callback_data=cursor.encode()))
    if older:
        cursor = Cursor(True, opinions[-1].id, page + 1, shown.channel)
        buttons.append(InlineKeyboardButton(_("Older") + " ▶", callback_data=cursor.encode()))
    rows = [buttons] if buttons else []
    if shown.rate is not None and opinions:
        rows.append([shown.rate])
    return InlineKeyboardMarkup(rows) if rows else None


class _Packer:
    """Fills one page with opinions as long as they fit in one message, counted as Telegram
    counts (see bot.core.formatting.telegram_length), with the page's header measured at its
    widest and each date at its widest. A group's title counts once, over its first opinion
    on the page, whichever end the page is filled from."""

    def __init__(self, shown: Shown) -> None:
        self._shown = shown
        header = listing_header(shown.article, WIDEST_PAGE, True)
        self._room = MESSAGE_LIMIT - telegram_length(header)
        self._when = widest_moment(shown.zone)
        self._headings: dict[str | None, int] = {}
        self.opinions: list[ListedOpinion] = []  # in the order they were added

    def add(self, opinion: ListedOpinion) -> bool:
        """Take the opinion if it fits (the first always does); False once the page is full."""
        key = opinion.question_key
        if key not in self._headings:
            self._headings[key] = telegram_length(heading_block(self._shown.article, key))
        cost = telegram_length(self._shown.entry(opinion, "")) + self._when
        if not self.opinions or self.opinions[-1].question_key != key:
            cost += self._headings[key]
        if self.opinions and cost > self._room:
            return False
        self._room -= cost
        self.opinions.append(opinion)
        return True


async def _fill(
    packer: _Packer, opinions: AsyncGenerator[ListedOpinion, None]
) -> bool:
    """Add opinions until the page is full; whether some were left over."""
    async with aclosing(opinions):
        async for opinion in opinions:
            if not packer.add(opinion):
                return True
    return False


async def listing(
    session: AsyncSession, shown: Shown, chat_id: int, cursor: Cursor | None = None
) -> Page | None:
    """The first page of the chat's listing, or the page a button leads to (None when the
    opinion the button starts from is gone, or is not one of this chat's on this article).

    Pages are read by key: a page reads the opinions it shows and the next one, whatever the
    number of opinions before it. The first page is always cut from the first opinion; a
    "newer" page is filled backwards from the page it was asked from, so that its "older"
    button leads back to exactly that page."""
    article = shown.article
    keys = [q.key for q in article.questions]
    packer = _Packer(shown)
    if cursor is None:
        older = await _fill(packer, listed_opinions(session, chat_id, article.id, keys))
        return _page(shown, packer.opinions, 0, False, older)
    start = await listing_key(session, chat_id, article.id, keys, cursor.opinion_id)
    if start is None:
        return None
    if cursor.older:
        older = await _fill(packer, listed_opinions(session, chat_id, article.id, keys, start))
        if not packer.opinions:
            return None
        return _page(shown, packer.opinions, max(1, cursor.page), True, older)
    newer = await _fill(
        packer, listed_opinions(session, chat_id, article.id, keys, start, backwards=True)
    )
    if not newer:  # back to the start: the first page as /opinions shows it
        return await listing(session, shown, chat_id)
    return _page(shown, packer.opinions[::-1], max(1, cursor.page), True, True)


def _page(
    shown: Shown, opinions: list[ListedOpinion], page: int, newer: bool, older: bool
) -> Page:
    text = listing_text(shown, opinions, page, newer or older)
    return Page(text, listing_keyboard(shown, opinions, page, newer, older))
