"""/me [/moi]: where the person stands, chat by chat, in private (bot.insights.standing)."""

from __future__ import annotations

import asyncio

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.constants import ChatType

from bot.context import AgoraApp
from bot.core.commands import ME
from bot.core.content import Article
from bot.core.i18n import _
from bot.insights.group_inputs import describe_in_turn, group_inputs
from bot.insights.standing import Favourite, Membership, Place, favourite, sides, standing_blocks
from handlers.common import command
from handlers.request import Request, handles
from storage.chats import get_chat
from storage.closes import get_close
from storage.insights import voter_patterns
from storage.polls import article_results
from storage.standing import answered_in, opinion_text, others_ratings, own_answers, raters_of

CHATS = 5  # the chats shown, the most recently answered first


@handles(ME)
async def me_command(request: Request) -> None:
    """In private: where the person stands in the chats where they answered the polls."""
    user = request.user
    if user is None:
        return
    if request.chat.type != ChatType.PRIVATE:
        request.reply(
            _("Ask me in private: /{me} shows where you stand, to you alone.").format(
                me=ME.name(request.language)
            )
        )
        return
    database, library = request.context.services.database, request.context.services.library

    async def compute() -> list[Place]:
        places = []
        async with database.read() as reading:
            answered = await answered_in(reading, user.id, CHATS)
        for chat_id, article_id in answered:
            article = library.get(article_id)
            if article is not None:
                async with database.read() as reading:
                    places.append(await _place(reading, user.id, chat_id, article))
        return places

    request.later("me", user.id, compute, lambda places: request.reply_blocks(
        standing_blocks(places)
    ))


async def _place(session: AsyncSession, user_id: int, chat_id: int, article: Article) -> Place:
    """What /me says of one chat (read in `session`; the groups computed in a thread)."""
    chat = await get_chat(session, chat_id)
    title = chat.title if chat is not None and chat.type != ChatType.PRIVATE else None
    place = Place(title or None, article)
    close = await get_close(session, chat_id, article.id)
    if close is not None and close.hidden and close.closed_at is None:
        place.hidden = True
        return place
    mine = await own_answers(session, user_id, chat_id, article.id)
    place.sides = sides(article, mine, await article_results(session, article.id, chat_id))
    inputs = await group_inputs(session, article, chat_id)
    patterns, questions, statements = inputs.patterns, inputs.questions, inputs.statement_ids
    ratings = await others_ratings(session, chat_id, article.id, user_id)
    # The person's set of answers and the raters' in one query, to find their groups.
    people = select(literal(user_id)).union(raters_of(chat_id, article.id))
    sets = await voter_patterns(session, article.id, chat_id, questions, statements, people)
    found = await asyncio.to_thread(describe_in_turn, inputs.ballots()) if patterns else None
    label: dict[int, int] = {}
    if found is not None:
        label = dict(zip((pattern for pattern, _voters in patterns), found.labels, strict=True))
    group = label.get(sets.get(user_id, -1), -1)
    liked: Favourite | None
    if found is not None and group >= 0:
        place.membership = Membership(
            group + 1, len(found.groups), found.groups[group].size, found.weak
        )
        liked = favourite(
            ratings, lambda rater: label.get(sets.get(rater, -1), -1) not in (-1, group)
        )
    else:
        liked = favourite(ratings, lambda rater: True)
    if liked is not None:
        text = await opinion_text(session, liked.opinion_id)
        place.favourite = Favourite(
            liked.opinion_id, liked.agreed, liked.disagreed, liked.passed, text or ""
        )
    return place


def register(app: AgoraApp) -> None:
    app.add_handler(command(ME.names, me_command))
