"""/results [/resultats]: each question's counts, shares and bars, here and in all chats."""

from __future__ import annotations

from bot.context import AgoraApp
from bot.core.commands import RESULTS
from bot.digests.closing import close_note, round_before
from bot.digests.compose import earlier_count
from bot.insights.results_text import results_blocks
from bot.insights.standings import Tallies
from handlers.common import command
from handlers.request import Request, handles
from storage.polls import article_results


@handles(RESULTS)
async def show_results(request: Request) -> None:
    """Send the results of the chat's article."""
    session, chat, article = request.session, request.chat, request.article
    now = Tallies(
        await article_results(session, article.id, chat.id),
        await article_results(session, article.id),
    )
    # In a later round, each share beside the round before; else its change since the
    # chat's latest digest before today (its numbers are recorded with it), if any.
    earlier = await round_before(session, chat.id, article.id, request.zone)
    if earlier is None:
        today = request.context.digests.clock().astimezone(request.zone).date()
        earlier = await earlier_count(session, chat.id, today)
    closing = await close_note(session, chat.id, article.id, request.zone)
    request.reply_blocks(results_blocks(article, now, earlier, request.private, closing))


def register(app: AgoraApp) -> None:
    app.add_handler(command(RESULTS.names, show_results))
