"""The report's opinion groups: those of `/groups all`, found in the background (a second or
two at 100,000 voters: never while a page waits) and kept FRESH_FOR; a page shows the last
ones found, in its own language, with when they were found."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.core.content import Article
from bot.core.i18n import _, format_number
from bot.core.localtime import Clock, moment_text
from bot.insights.group_inputs import describe_in_turn, group_inputs
from bot.insights.groups_text import groups_blocks, scope_text, too_few
from bot.insights.opinion_groups import OpinionGroups
from bot.report.layout import heading, text
from storage.db import Database

log = logging.getLogger(__name__)

FRESH_FOR = timedelta(minutes=10)  # found again, at a page's request, once this old
TAG = re.compile(r"<[^<>]*>")
TELEGRAM_TAGS = frozenset({"<b>", "</b>", "<i>", "</i>"})  # what bot.insights.groups_text writes

Key = tuple[str, tuple[tuple[str, int], ...]]  # an article and its questions (key, options)


@dataclass(frozen=True, slots=True)
class FoundGroups:
    """What `/groups all` found: the groups (None: too few voters), the voters who count,
    the rated opinions weighed with the answers, and when."""

    groups: OpinionGroups | None
    eligible: int
    statements: list[str]
    found_at: datetime


def _key(article: Article) -> Key:
    return article.id, tuple((q.key, q.option_count) for q in article.questions)


class GroupsCache:
    """Each article's opinion groups across chats, found one article at a time in the
    background (the lock /groups takes), shared by the report and the Mini App."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock
        self._found: dict[Key, FoundGroups] = {}
        self._finding: dict[Key, asyncio.Task[None]] = {}

    def latest(self, article: Article) -> FoundGroups | None:
        """The groups found last (None: not yet); looked for again, without waiting, when
        there are none or they are FRESH_FOR old."""
        key = _key(article)
        known = self._found.get(key)
        stale = known is None or self._clock() - known.found_at >= FRESH_FOR
        if stale and key not in self._finding:
            task = asyncio.create_task(self._find(article), name="agora-report-groups")
            self._finding[key] = task
            task.add_done_callback(lambda _done: self._finding.pop(key, None))
        return known

    async def settled(self) -> None:
        """Until the groups being looked for are found (or given up)."""
        while self._finding:
            await asyncio.wait(list(self._finding.values()))

    async def _find(self, article: Article) -> None:
        try:
            async with self._database.read() as session:
                inputs = await group_inputs(session, article, None)
            ballots = inputs.ballots()
            found = await asyncio.to_thread(describe_in_turn, ballots)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("report: opinion groups not found (%s); later", type(exc).__name__)
            return
        statements = [statement for _id, statement in inputs.statements]
        self._found[_key(article)] = FoundGroups(
            found, ballots.eligible_voters(), statements, self._clock()
        )

    async def close(self) -> None:
        """Stop looking (a clustering under way finishes in its thread, unawaited)."""
        tasks = list(self._finding.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


def page_html(block: str) -> str:
    """A block of Telegram HTML as the page's: its line breaks kept. It holds <b> and <i>
    around texts already escaped; anything else would be shown as plain text."""
    if any(tag not in TELEGRAM_TAGS for tag in TAG.findall(block)):
        block = text(html.unescape(TAG.sub("", block)))
    return block.replace("\n", "<br>")


def groups_block(article: Article, known: FoundGroups | None, zone: ZoneInfo) -> str:
    """The opinion groups across chats as /groups all words them, or a word on their way."""
    title = heading("groups", _("Opinion groups"))
    if known is None:
        waiting = _("The opinion groups are being found: reload the page in a moment.")
        return f'{title}<section class="card"><p class="muted">{text(waiting)}</p></section>'
    scope = scope_text(True, "")
    if known.groups is None:
        blocks = [too_few(known.eligible, scope, everywhere=True)]
    else:
        blocks = groups_blocks(article, known.groups, scope, known.statements)
        # Its first line is the article's title under a heading of its own: the page has both.
        blocks[0] = blocks[0].partition("\n")[2]
    when = _("Found on {moment}; looked for again every {minutes} minutes at most.").format(
        moment=moment_text(known.found_at, zone),
        minutes=format_number(int(FRESH_FOR.total_seconds() // 60)),
    )
    body = "".join(f"<p>{page_html(block)}</p>" for block in blocks)
    return (
        f'{title}<section class="card groups">{body}'
        f'<p class="muted"><small>{text(when)}</small></p></section>'
    )
