"""/crosstab A B [/croiser A B]: how the people who answered two questions answered each."""

from __future__ import annotations

from bot.context import AgoraApp
from bot.core.commands import CROSSTAB
from bot.insights.crosstab import CrossTab
from bot.insights.crosstab_text import (
    AskedAnonymously,
    NotAsked,
    crosstab_blocks,
    nobody_crossed,
    question_numbers,
)
from handlers.common import command
from handlers.request import Request, handles
from storage.insights import answer_pairs, asked_in_chat


@handles(CROSSTAB)
async def show_crosstab(request: Request) -> None:
    """Cross the answers to two questions of the chat's article."""
    chat, article = request.chat, request.article
    first, second = question_numbers(article, request.args)
    polls: list[tuple[str, ...]] = []
    for number in (first, second):
        question = article.questions[number - 1]
        found = await asked_in_chat(request.session, chat.id, article.id, question.key)
        if not found.poll_ids:
            raise NotAsked(number)
        if found.anonymous:
            raise AskedAnonymously(number)
        polls.append(tuple(found.poll_ids))
    question_a, question_b = article.questions[first - 1], article.questions[second - 1]
    private, database = request.private, request.context.services.database
    polls_a, polls_b = polls

    async def compute() -> CrossTab:
        async with database.read() as reading:
            pairs = await answer_pairs(reading, list(polls_a), list(polls_b))
        return CrossTab.of(pairs, question_a.option_count, question_b.option_count)

    def answer(table: CrossTab) -> None:
        if not table.both:
            request.reply(nobody_crossed())
            return
        request.reply_blocks(crosstab_blocks(article, first, second, table, private))

    # Every voter's pair of answers, in a large group: counted after this update's
    # transaction, and once for the same two polls asked again meanwhile.
    request.later("crosstab", (polls_a, polls_b), compute, answer)


def register(app: AgoraApp) -> None:
    app.add_handler(command(CROSSTAB.names, show_crosstab))
