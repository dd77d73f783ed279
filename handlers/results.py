"""/results [/resultats]: each question's counts, shares and bars, here and in all chats."""

from __future__ import annotations

from telegram.constants import ChatType

from bot.context import AgoraApp
from bot.core.commands import RESULTS
from bot.core.content import Article
from bot.core.localtime import chat_zone
from bot.digests.closing import close_note, round_before
from bot.digests.compose import earlier_count
from bot.insights.results_text import channel_line, in_person_blocks, results_blocks
from bot.insights.standings import Tallies
from handlers.common import command, current_article
from handlers.request import Request, handles, no_such_channel
from storage.channels import find_channel, identified_respondents
from storage.models import Chat
from storage.polls import article_results, in_person_results


@handles(RESULTS)
async def show_results(request: Request) -> None:
    """Send the results of the chat's article (or of the channel named: public, as the
    channel's polls are)."""
    await reply_results(request, request.chat, request.article)


async def channel_results(request: Request, channel_id: int) -> None:
    """The results of a channel Agora publishes in (the button under its summary)."""
    channel = await find_channel(request.session, channel_id)
    if channel is None:
        raise no_such_channel()
    await reply_results(request, channel, current_article(request.context, channel))


async def reply_results(request: Request, chat: Chat, article: Article) -> None:
    session = request.session
    zone = chat_zone(chat, request.context.services.settings)
    now = Tallies(
        await article_results(session, article.id, chat.id),
        await article_results(session, article.id),
    )
    # In a later round, each share beside the round before; else its change since the
    # chat's latest digest before today (its numbers are recorded with it), if any.
    earlier = await round_before(session, chat.id, article.id, zone)
    if earlier is None:
        today = request.context.digests.clock().astimezone(zone).date()
        earlier = await earlier_count(session, chat.id, today)
    closing = await close_note(session, chat.id, article.id, zone)
    blocks = results_blocks(article, now, earlier, chat.type, closing)
    if chat.type == ChatType.CHANNEL:  # whose results they are, and who answered in person
        respondents = await identified_respondents(session, article.id, chat.id)
        blocks[0] += "\n" + channel_line(chat, respondents)
        if respondents:
            in_person = await in_person_results(session, article.id, chat.id)
            blocks += in_person_blocks(article, Tallies(in_person, now.everywhere), respondents)
    request.reply_blocks(blocks)


def register(app: AgoraApp) -> None:
    app.add_handler(command(RESULTS.names, show_results))
