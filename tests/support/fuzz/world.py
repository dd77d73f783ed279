"""The fuzzer's world: a fresh bot and local server per example, the chats and people in it,
what went wrong (refusals, errors), and the checks made after every example."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from storage.chats import FORMER_GROUP
from storage.models import Ballot, Chat, Opinion, PollTally, PostedPoll
from tests.support.botapi import (
    CHANNEL_BOT,
    GROUP_ANONYMOUS_BOT,
    ApiError,
    FakeBotAPI,
)
from tests.support.fuzz.common import JSON, MAX_ID, SORRY, TOKEN
from tests.support.harness import Agora, FakeClock, start_agora, totals_match_tallies


@dataclass
class Refusal:
    method: str
    code: int
    description: str
    params: JSON


def record_refusals(api: FakeBotAPI) -> list[Refusal]:
    """Every Bot API call the server refuses (4xx), with its parameters."""
    refusals: list[Refusal] = []
    for key, (name, handler) in list(api._methods.items()):
        if name == "getUpdates":
            continue  # long polls: never a message

        def checked(call: Any, name: str = name, handler: Any = handler) -> Any:
            try:
                return handler(call)
            except ApiError as err:
                params = {k: v for k, v in call.params.items() if not isinstance(v, bytes)}
                refusals.append(Refusal(name, err.code, err.description, params))
                raise

        api._methods[key] = (name, checked)
    return refusals


class ErrorLog(logging.Handler):
    """Log records at ERROR and above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "could not be parsed" not in record.getMessage():
            self.records.append(record)  # unreadable updates are logged and skipped: by design

    @staticmethod
    def describe(record: logging.LogRecord) -> str:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        return text


# --------------------------------------------------------------------------- the world


@dataclass
class Posted:
    """A message the fuzzer sent as a person (or a chat), and every version of its text."""

    chat_id: int
    message_id: int
    author: int | None  # sender_chat's id, else the user's; None without either
    texts: list[str]


@dataclass
class World:
    """The running bot, its local Telegram, and what the fuzzer did to them."""

    api: FakeBotAPI
    agora: Agora
    refusals: list[Refusal]
    errors: ErrorLog
    users: dict[str, JSON]
    chats: dict[str, JSON]
    prober: JSON
    postgresql: bool
    tainted: set[str] = field(default_factory=set)  # polls that got answers Telegram never sends
    posted: dict[tuple[int, int], Posted] = field(default_factory=dict)
    bot_present: dict[int, bool] = field(default_factory=dict)
    once_removed: set[int] = field(default_factory=set)  # chats the bot was removed from
    queries: set[str] = field(default_factory=set)  # button presses the bot must answer
    moved: dict[int, int] = field(default_factory=dict)  # supergroup id -> its group's id
    focus: int | None = None  # the chat where most of an example happens

    # -- pushing updates --------------------------------------------------------------------

    def message(
        self,
        chat: JSON,
        user: JSON | None,
        text: str | None,
        *,
        sender_chat: JSON | None = None,
        entities: list[JSON] | None = None,
        reply_to: JSON | None = None,
        thread: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        """A new message from `user` (or `sender_chat`), stored on the server as Telegram
        keeps it, so that the bot can react or reply to it."""
        message_id = self.api._next_message_id(chat["id"])
        message: JSON = {"message_id": message_id}
        if sender_chat is not None:
            anonymous = sender_chat["id"] == chat["id"]
            message["from"] = dict(GROUP_ANONYMOUS_BOT if anonymous else CHANNEL_BOT)
            message["sender_chat"] = dict(sender_chat)
        elif user is not None:
            message["from"] = dict(user)
        message["chat"] = dict(chat)
        message["date"] = int(time.time())
        if thread is not None:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if text is not None:
            message["text"] = text
            found = entities if entities is not None else command_entity(text)
            if found:
                message["entities"] = found
        message.update(extra or {})
        self.api.messages[(chat["id"], message_id)] = message
        author = sender_chat["id"] if sender_chat else (user["id"] if user else None)
        if text is not None:
            self.posted[(chat["id"], message_id)] = Posted(chat["id"], message_id, author, [text])
        return message

    def push(self, kind: str, payload: JSON) -> int:
        return self.api.push_update({kind: payload})

    def push_message(self, message: JSON, *, edited: bool = False) -> int:
        channel = message["chat"]["type"] == "channel"
        kind = ("edited_" if edited else "") + ("channel_post" if channel else "message")
        return self.push(kind, message)

    def press(self, chat: JSON | None, user: JSON, message: JSON | None, data: str | None) -> int:
        """A button press; without `message`, on a message the bot sent inline."""
        query_id = str(self.api._rng.randrange(10**18, 10**19))
        query: JSON = {"id": query_id, "from": dict(user)}
        if message is not None:
            query["message"] = strip_reply(message)
        else:
            query["inline_message_id"] = "AgAAAN4BAQDp3k8AAAAAAA"
        chat_id = chat["id"] if chat is not None else user["id"]
        query["chat_instance"] = str(-((abs(chat_id) * 2654435761) % 2**63))
        if data is not None:
            query["data"] = data
        else:
            query["game_short_name"] = "agora"  # a game button: not the bot's business
        self.api.callback_queries[query_id] = query
        if data is not None:
            self.queries.add(query_id)
        return self.push("callback_query", query)

    async def settle(self, update_id: int) -> None:
        await self.agora.settle(update_id)

    # -- reading the world ------------------------------------------------------------------

    @property
    def polls(self) -> list[JSON]:
        """The bot's polls, as the server sent them."""
        return [m["poll"] for m in self.api.sent(method="sendPoll")]

    def bot_messages(self, chat_id: int) -> list[JSON]:
        return [
            message
            for (chat, _), message in sorted(self.api.messages.items())
            if chat == chat_id and message.get("from", {}).get("id") == self.api.bot_id
        ]

    def people_messages(self, chat_id: int) -> list[Posted]:
        return [p for key, p in sorted(self.posted.items()) if key[0] == chat_id]

    @property
    def users_by_id(self) -> dict[int, JSON]:
        return {u["id"]: u for u in self.users.values()}

    def writable(self) -> list[JSON]:
        """Chats people can write in, and the bot reads."""
        return [c for c in self.chats.values() if self.bot_present.get(c["id"], True)]

    def is_admin(self, chat: JSON, user: JSON | None, sender_chat: JSON | None) -> bool:
        if chat["type"] == "private":
            return True
        if sender_chat is not None:
            return bool(sender_chat["id"] == chat["id"])
        return user is not None and user["id"] in self.api.admins.get(chat["id"], {})

    async def chat_settings(self, chat_id: int) -> tuple[Any, ...] | None:
        async with AsyncSession(self.agora.engine) as session:
            chat = await session.get(Chat, chat_id)
            if chat is None:
                return None
            return (
                chat.language,
                chat.article_id,
                chat.digest_enabled,
                chat.digest_time,
                chat.timezone,
            )

    async def opinions(self) -> dict[int, Opinion]:
        async with AsyncSession(self.agora.engine) as session:
            return {o.id: o for o in await session.scalars(select(Opinion))}

    async def ballots(self) -> set[tuple[str, int, tuple[int, ...]]]:
        async with AsyncSession(self.agora.engine) as session:
            return {(b.poll_id, b.user_id, tuple(b.options)) for b in await session.scalars(
                select(Ballot))}

    # -- the properties ---------------------------------------------------------------------

    async def check(self) -> None:
        """Every property of the module docstring, after the updates so far."""
        await self.agora.sent_out()
        failures = [ErrorLog.describe(r) for r in self.errors.records]
        assert not failures, "the bot logged errors:\n" + "\n\n".join(failures)
        assert self.api.server_errors == [], self.api.server_errors
        for message in self.api.sent():
            text = message.get("text") or message.get("caption") or ""
            assert not any(sorry in text for sorry in SORRY), message
        assert self.api.sent(self.chats["channel"]["id"]) == [], "the bot posted in a channel"
        refused = [r for r in self.refusals if not self.expected(r)]
        assert refused == [], "Telegram would refuse:\n" + "\n".join(map(repr, refused))
        unanswered = self.queries - set(self.api.callback_answers)
        assert not unanswered, "presses never answered: " + repr(
            [self.api.callback_queries[q].get("data") for q in sorted(unanswered)]
        )

        # It never stops: a chat the fuzzer never touched still gets its help.
        sent = await self.agora.command(self.api.private_chat(self.prober), self.prober, "/aide")
        answers = [m for m in sent if m["chat"]["id"] == self.prober["id"]]
        assert len(answers) == 1, answers
        assert "Commandes" in answers[0]["text"], answers

        await totals_match_tallies(self.agora.engine)
        await self.check_polls()
        await self.check_opinions()

    def expected(self, refusal: Refusal) -> bool:
        """Refusals the bot is built to receive."""
        if refusal.code == 403 and chat_of(refusal) in self.once_removed:
            return True  # sends in flight when the bot was removed: its queue is dropped
        # The sender follows a group to its supergroup.
        return bool(self.moved) and "upgraded to a supergroup" in refusal.description

    async def check_polls(self) -> None:
        async with AsyncSession(self.agora.engine) as session:
            polls = {p.poll_id: p for p in await session.scalars(select(PostedPoll))}
            tallies: dict[str, dict[int, int]] = {}
            for row in await session.scalars(select(PollTally)):
                tallies.setdefault(row.poll_id, {})[row.option_index] = row.votes
        ballots: dict[str, list[tuple[int, ...]]] = {}
        for poll_id, _user, options in await self.ballots():
            ballots.setdefault(poll_id, []).append(options)
        assert set(ballots) <= set(polls), "ballots for polls the bot never posted"
        assert {p["id"] for p in self.polls} == set(polls)
        for poll_id, poll in polls.items():
            counted = {i: v for i, v in tallies.get(poll_id, {}).items() if v}
            if not poll.anonymous:
                # Named polls: the tallies are the ballots, each option counted once.
                from_ballots = Counter(i for b in ballots.get(poll_id, []) for i in b)
                assert counted == dict(from_ballots), (poll_id, counted, from_ballots)
                assert poll.voter_count == len(ballots.get(poll_id, []))
                assert all(b and len(set(b)) == len(b) for b in ballots.get(poll_id, []))
            if poll_id in self.tainted:
                continue
            # Only answers Telegram could send: the bot counts what Telegram counts.
            server = self.api.polls[poll_id]
            expected = {
                i: o["voter_count"] for i, o in enumerate(server["options"]) if o["voter_count"]
            }
            assert counted == expected, (poll_id, counted, expected)
            assert poll.voter_count == server["total_voter_count"]

    async def check_opinions(self) -> None:
        """Each opinion is what its author wrote in its message (in the chat, or in the group
        the chat was before it became a supergroup)."""
        for opinion in (await self.opinions()).values():
            written = [self.posted.get((opinion.chat_id, opinion.message_id))]
            if opinion.chat_id in self.moved:  # written in the group, before it moved
                former = opinion.message_id + FORMER_GROUP
                written.append(self.posted.get((self.moved[opinion.chat_id], former)))
            assert any(
                posted is not None
                and posted.author == opinion.user_id
                and opinion.text in {opinion_text(t) for t in posted.texts}
                for posted in written
            ), (opinion.id, opinion.chat_id, opinion.user_id, opinion.text[:100], written)
            assert 3 <= len(opinion.text) <= 1000


def chat_of(refusal: Refusal) -> int | None:
    try:
        return int(refusal.params.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def opinion_text(text: str) -> str:
    """What the bot keeps of a message as an opinion (bot.discussion.opinions.opinion_text)."""
    if text.startswith("/"):
        text = text.partition(" ")[2] if " " in text else ""
    return text.strip()


COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(@[A-Za-z0-9_]{3,32})?")


def command_entity(text: str) -> list[JSON]:
    """The bot_command entity Telegram marks at the start of a text."""
    match = COMMAND_RE.match(text)
    return [{"offset": 0, "length": match.end(), "type": "bot_command"}] if match else []


def strip_reply(message: JSON) -> JSON:
    """A message as Telegram nests it in another (without its own reply)."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


@asynccontextmanager
async def fresh_world(database_url: str) -> AsyncIterator[World]:
    """The bot, started on an empty database, with people, chats and polls already posted:

    A, a supergroup with named polls (Ada administers it); B, a group with a 52-bit id and
    anonymous polls (its creator has a 52-bit user id), which may become a supergroup; a
    lobby the bot may leave and join again (Bob administers it); a forum (with topics); a
    channel; everyone's private chat.
    """
    api = FakeBotAPI(TOKEN, seed=0)
    await api.start()
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        settings = Settings(
            bot_token=TOKEN,  # type: ignore[arg-type]
            telegram_api_url=api.url,
            database_url=database_url,
            default_language="fr",
            rate_limit=False,
            _env_file=None,  # type: ignore[call-arg]
        )
        clock = FakeClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
        async with start_agora(api, settings, clock) as agora:
            users = {
                "ada": api.user(10, "Ada", language_code="fr"),
                "bob": api.user(11, "Bob", "en", username="bob", last_name="Builder"),
                "huge": api.user(MAX_ID, "Ωmega 🤯 עברית", language_code=None),
                "odd": api.user(12, "<b>&amp;</b> \u202eevil", language_code="pt-br"),
                "one": api.user(1, "A" * 64, language_code="de", last_name="\u200b" * 64),
            }
            chats = {
                "A": api.group(-1001234567890, "Débat <i>&"),
                "B": api.group(-MAX_ID, "Grand groupe", type="group"),
                "lobby": api.group(-1009876543210, "Lobby"),
                "channel": api.group(-1001111111111, "Actu", type="channel"),
                "forum": api.group(-1005555555555, "Forum", forum=True),
            }
            for name, user in users.items():
                chats[f"@{name}"] = api.private_chat(user)
            api.set_admin(chats["A"]["id"], users["ada"])
            api.set_admin(chats["B"]["id"], users["huge"], "creator")
            api.set_admin(chats["lobby"]["id"], users["bob"])
            api.set_admin(chats["forum"]["id"], users["odd"], "creator")
            world = World(
                api,
                agora,
                record_refusals(api),
                errors,
                users,
                chats,
                api.user(999, "Sonde", language_code="fr"),
                postgresql=database_url.startswith("postgresql"),
            )
            sent = await agora.command(chats["A"], users["ada"], "/sondage")
            sent += await agora.command(chats["B"], users["huge"], "/sondage anonyme")
            sent += await agora.command(chats["A"], users["bob"], "/resume")
            sent += await agora.command(chats["@bob"], users["bob"], "/summary")
            assert len([m for m in sent if "poll" in m]) == 12
            yield world
    finally:
        logging.getLogger().removeHandler(errors)
        await api.stop()


