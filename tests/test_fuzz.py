"""Fuzzing (issue 8): random updates fed to the real bot through the local Bot API server.

Hypothesis draws sequences of updates: texts in any script with emoji and control characters
(cleaned as Telegram cleans them), entities, commands in both languages with random
arguments, replies to the bot's messages, to people's and to lost ones, edits, button presses
(real, stale, double, forged and oversized data, or none), poll answers Telegram sends and
answers it never would (unknown polls and options), poll states, the bot leaving and joining,
a group becoming a supergroup, forum topics, update types the bot does not handle and updates
it cannot read, with 52-bit ids and without optional fields. After every example:

* the bot never answered "Sorry, something went wrong" (in either language) and logged no
  error: no handler failed;
* it still answers /aide in a chat the fuzzer never touched: it never stops;
* Telegram refused none of its calls (the local server refuses too long, empty or unbalanced
  HTML texts, edits of messages without text or without change, unknown reply targets…), no
  call failed inside the server, every button press was answered, nothing went to a channel;
* it changed nothing it should not: poll tallies equal the stored ballots and Telegram's own
  counts, the all-chats totals equal the sums of the tallies, opinions are what their authors
  wrote (3 to 1000 characters), only /delete removes one (by its author or an administrator)
  and "forget me" only one's own votes and opinions, and only administrators change a group's
  settings.

Each example starts the bot afresh (a new database and local server: about half a second
with the setup), so that a failure replays and shrinks to a short sequence of updates, which
Hypothesis prints draw by draw. SQLite only by default: the other tests run the storage layer
on PostgreSQL, and fuzzing it too would double the time; AGORA_FUZZ_POSTGRESQL=1 (with
TEST_DATABASE_URL) adds it.

CI runs a fixed, derandomized set of examples (about ten seconds per test);
AGORA_FUZZ_EXAMPLES=300 runs more of them, and AGORA_FUZZ_RANDOM=1 new ones at every run.

Defects the fuzzer found are pinned by the `test_found_*` tests at the end, each the shortest
sequence of updates that showed it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import COMMANDS
from bot.settings import Settings, async_database_url
from storage.chats import FORMER_GROUP
from storage.models import Ballot, Chat, Opinion, PollTally, PostedPoll
from tests.botapi.server import (
    CHANNEL_BOT,
    GROUP_ANONYMOUS_BOT,
    ApiError,
    FakeBotAPI,
    utf16_len,
)
from tests.conftest import reset_postgresql
from tests.harness import Agora, FakeClock, start_agora, totals_match_tallies

JSON = dict[str, Any]
T = TypeVar("T")

EXAMPLES = int(os.environ.get("AGORA_FUZZ_EXAMPLES", "12"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not os.environ.get("AGORA_FUZZ_RANDOM"),
        database=None,  # no example database: a derandomized run needs none
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # new_database makes one database an example
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# Not the other tests' token: a bot process another test left behind, which may find this
# test's server on the port it used, is refused rather than served.
TOKEN = "987654321:AAFuzzingTokenForTestsOnly0123456789abcd"
SORRY = ("Désolé, une erreur s’est produite", "Sorry, something went wrong")
MAX_ID = 2**52 - 1  # Telegram's ids have at most 52 significant bits
TEXT_LIMIT = 4096  # what a person can send, in UTF-16 code units
WHITESPACE = " \t\n\r\x0b\x0c"  # what Telegram trims around a message


# --------------------------------------------------------------------------- the database


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Awaitable[str]]:
    """Makes a fresh, empty database for each example: SQLite by default, PostgreSQL only
    with AGORA_FUZZ_POSTGRESQL=1 and TEST_DATABASE_URL (see the docstring)."""
    if request.param == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not (url and os.environ.get("AGORA_FUZZ_POSTGRESQL")):
            pytest.skip("fuzzing runs on SQLite; AGORA_FUZZ_POSTGRESQL=1 adds PostgreSQL")
        postgresql = async_database_url(url)

        async def reset() -> str:
            await reset_postgresql(postgresql)
            return postgresql

        return reset
    made = iter(range(10**9))

    async def sqlite() -> str:
        shutil.rmtree(tmp_path / "example", ignore_errors=True)  # the previous example's
        return f"sqlite+aiosqlite:///{tmp_path / 'example' / f'agora-{next(made)}.db'}"

    return sqlite


# --------------------------------------------------------------------------- what went wrong


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
    """What the bot keeps of a message as an opinion (bot.opinions.opinion_text)."""
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


# --------------------------------------------------------------------------- strategies


def pick(data: st.DataObject, items: Sequence[T], label: str) -> T | None:
    """One of `items`, drawn the same way whatever their number (so that an example replays
    even if the bot's messages are not exactly the same), or None if there are none."""
    index = data.draw(st.integers(0, 255), label=label)
    if not items:
        return None
    chosen = items[index % len(items)]
    note(f"{label}: {chosen!r}"[:300])
    return chosen


EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🏳️‍🌈", "❤️", "🤯", "🫠", "#️⃣", "🧑🏿‍🚀"]
SCRIPTS = [
    "Crise à la tête",
    "עברית",
    "العربية ٣٤",
    "中文字符",
    "русский",
    "ελληνικά",
    "हिन्दी",
    "\U0001d571\U0001d597\U0001d586\U0001d590\U0001d599\U0001d59a\U0001d597",  # Fraktur
    "Z̷̢a̸l̴g̷o̵",
    "ﷺ",
    "ß",
]
CONTROL = ["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u200d", "\u200e", "\u202e", "\u2028",
           "\ufeff", "\r\n", "\t", "\u00a0", "\u3000", "\ufffd", "\U000e0001"]
MARKUP = ["<b>", "</i>", "&amp;", "&", "<", ">", "<a href='x'>", "<tg-spoiler>", "&#0;",
          "</", "*bold*", "_", "`", "```", "\\", "%s", "{title}", "{0}", "/aide", "@bob"]

pieces = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(EMOJI + SCRIPTS + CONTROL + MARKUP),
)


# What Telegram does to a text before it delivers it (tdlib's clean_input_string): C0 control
# characters but the line feed become spaces, carriage returns and U+2028 to U+202E go.
CLEANED = str.maketrans(
    {**{chr(c): " " for c in range(32) if c not in (10, 13)},
     **{chr(c): None for c in (13, *range(0x2028, 0x202F))}}
)


def telegram_text(text: str) -> str:
    """As Telegram delivers a text: cleaned, trimmed, at most 4096 UTF-16 code units."""
    text = text.translate(CLEANED).strip(WHITESPACE)
    while utf16_len(text) > TEXT_LIMIT:
        text = text[: -max(1, (utf16_len(text) - TEXT_LIMIT) // 2)].rstrip(WHITESPACE)
    return text


short_texts = st.lists(pieces, min_size=1, max_size=10).map("".join)
long_texts = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["&", "<b>", "🤯", "ab ", "é\n", "👨‍👩‍👧‍👦", "x", "\u200b", "< "]),
    st.integers(1, 4100),
)
texts = st.one_of(short_texts, short_texts, short_texts, long_texts).map(telegram_text)

NUMBERS = ["0", "1", "2", "7", "#1", "#", "-1", "²", "٣", "\uff11", "999999999999999999",
           "9" * 19, "2147483648", "1e3", "0x10", "1_000", "3.0"]
ZONES = ["Europe/Paris", "America/Montreal", "Etc/GMT+5", "UTC", "utc", "EUROPE/PARIS",
         "../../etc/passwd", "/etc/localtime", "posixrules", "Factory", "zone.tab",
         "Europe/Paris\x00", "Europe/", "Mars/Olympus_Mons", "+02:00"]
WORDS = {  # arguments each command understands, and near misses
    "poll": ["anonyme", "anonymous", "ANON", "anon", "anonymes", "public"],
    "lang": ["fr", "en", "EN", "Fr", "de", "fr-CA", "français", "en_US", ""],
    "digest": ["on", "off", "now", "maintenant", "oui", "non", "Désactiver", "ARRÊT", "yes",
               "marche", "18:30", "9h05", "0:00", "23:59", "24:00", "23:60", "99:99", "1:2",
               "١٢:٣٠", "18:30:00", "18h", "-1:30"],
    "timezone": ZONES,
    "article": ["openai-board-2023-11", "OPENAI-BOARD-2023-11", "openai", "../x", "nope"],
    "delete": NUMBERS,
}
COMMAND_WORDS = {name: WORDS.get(c.en, NUMBERS) for c in COMMANDS for name in c.names}
NAMES = sorted([*COMMAND_WORDS, "start"])

arguments = st.one_of(
    short_texts,
    long_texts,
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=300),
    st.sampled_from(NUMBERS + sorted({w for words in WORDS.values() for w in words})),
)


@st.composite
def command_texts(draw: st.DrawFn) -> str:
    """A command (the bot's, in either language, in capitals, or another), addressed or not,
    with arguments it understands, near misses, numbers and any text."""
    name = draw(st.sampled_from(NAMES), label="command name")
    name = draw(st.sampled_from([name, name, name, name.upper(), name + "s", "x", "a" * 40]))
    at = draw(st.sampled_from(["", "", "", "@agora_test_bot", "@Agora_Test_Bot", "@other_bot",
                               "@"]))
    separator = draw(st.sampled_from([" ", " ", "  ", "\n", "\t", "\u00a0"]))
    own = st.sampled_from(COMMAND_WORDS.get(name, NUMBERS))
    args = draw(st.lists(st.one_of(own, own, arguments), max_size=3))
    return telegram_text(f"/{name}{at}" + "".join(separator + a for a in args))


@st.composite
def entities_for(draw: st.DrawFn, text: str) -> list[JSON]:
    """Entities on `text` as Telegram gives them (UTF-16 offsets over whole characters),
    after the command's if any."""
    found = command_entity(text)
    boundaries = [utf16_len(text[:i]) for i in range(len(text) + 1)]
    for _ in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start + 1, min(len(text), start + 50)))
        kind = draw(
            st.sampled_from(
                ["bold", "italic", "spoiler", "code", "url", "mention", "hashtag", "text_link",
                 "bot_command", "custom_emoji", "blockquote"]
            )
        )
        entity: JSON = {
            "offset": boundaries[start],
            "length": boundaries[end] - boundaries[start],
            "type": kind,
        }
        if kind == "text_link":
            entity["url"] = "https://example.org/<x>"
        if kind == "custom_emoji":
            entity["custom_emoji_id"] = "5368324170671202286"
        found.append(entity)
    return sorted(found, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------- the actions

Action = Callable[[World, st.DataObject], Awaitable[None]]


@dataclass
class Sender:
    user: JSON | None
    sender_chat: JSON | None

    @property
    def id(self) -> int | None:
        if self.sender_chat is not None:
            return int(self.sender_chat["id"])
        return int(self.user["id"]) if self.user is not None else None


def draw_chat(world: World, data: st.DataObject, chats: list[JSON] | None = None) -> JSON | None:
    """One of `chats` (those people can write in by default), half of the time the example's
    focus, so that what happens in a chat meets what happened there before."""
    chats = world.writable() if chats is None else chats
    chat = pick(data, chats, "chat")
    focus = [c for c in chats if c["id"] == world.focus]
    return focus[0] if focus and data.draw(st.booleans(), label="the focus") else chat


def draw_sender(world: World, data: st.DataObject, chat: JSON) -> Sender:
    """Someone who can write in `chat`: a person, an anonymous administrator, the linked
    channel, or (Telegram never does it, but the field is optional) nobody."""
    choice = pick(
        data, [*sorted(world.users), "anonymous admin", "linked channel", "nobody"], "sender"
    )
    if chat["type"] == "channel":
        return Sender(None, chat)
    if chat["type"] == "private":
        return Sender(world.users_by_id[chat["id"]], None)
    if choice == "anonymous admin":
        return Sender(None, chat)
    if choice == "linked channel":
        return Sender(None, world.chats["channel"])
    if choice == "nobody":
        return Sender(None, None)
    return Sender(world.users[str(choice)], None)


def draw_reply(world: World, data: st.DataObject, chat: JSON) -> JSON | None:
    """Nothing, a message of the bot, someone's message, or a message Telegram lost."""
    kind = pick(data, ["none", "none", "bot", "bot", "bot", "people", "phantom"], "reply to")
    bot = pick(data, world.bot_messages(chat["id"]), "bot message")
    people = pick(data, world.people_messages(chat["id"]), "someone's message")
    phantom_id = data.draw(st.integers(1, 2**31 - 1), label="phantom id")
    phantom_from_bot = data.draw(st.booleans(), label="phantom from the bot")
    if kind == "bot" and bot is not None:
        return strip_reply(bot)
    if kind == "people" and people is not None:
        return strip_reply(world.api.messages[(people.chat_id, people.message_id)])
    if kind == "phantom":
        return {
            "message_id": phantom_id,
            "from": dict(world.api.bot_user if phantom_from_bot else world.users["bob"]),
            "chat": dict(chat),
            "date": 1_700_000_000,
            "text": "?",
        }
    return None


async def say(
    world: World,
    data: st.DataObject,
    text: str,
    *,
    chat: JSON | None = None,
    reply: JSON | None = None,
    sender: Sender | None = None,
) -> None:
    """`text` sent in a chat, by someone, maybe in reply, with entities, in a topic."""
    chat = chat or draw_chat(world, data)
    assert chat is not None
    sender = sender or draw_sender(world, data, chat)
    reply = reply or draw_reply(world, data, chat)
    entities = data.draw(st.none() | entities_for(text), label="entities") if text else None
    topic = data.draw(st.sampled_from([None, 1, 2**31 - 1]), label="topic")
    thread = topic if chat.get("is_forum") else None
    if not text:
        return
    settings_before = await world.chat_settings(chat["id"])
    opinions_before = await world.opinions()
    message = world.message(
        chat,
        sender.user,
        text,
        sender_chat=sender.sender_chat,
        entities=entities,
        reply_to=reply,
        thread=thread,
    )
    await world.settle(world.push_message(message))
    if settings_before is not None and not world.is_admin(chat, sender.user, sender.sender_chat):
        assert await world.chat_settings(chat["id"]) == settings_before, "a member's change"
    # Only /delete removes opinions: its author's, or any of the chat's for an administrator.
    opinions_after = await world.opinions()
    removed = [o for i, o in opinions_before.items() if i not in opinions_after]
    if removed:
        assert arguments_of(text, "delete", "supprimer") is not None, ("removed by", text)
        admin = world.is_admin(chat, sender.user, sender.sender_chat)
        assert len(removed) == 1
        assert removed[0].chat_id == chat["id"]
        assert admin or removed[0].user_id == sender.id, ("removed by someone else", text)


async def plain_message(world: World, data: st.DataObject) -> None:
    await say(world, data, data.draw(texts, label="text"))


async def command(world: World, data: st.DataObject) -> None:
    await say(world, data, data.draw(command_texts(), label="command"))


READINGS = ["aide", "help", "start", "resume", "summary", "resultats", "results", "avis",
            "opinions", "bilan", "digest", "fuseau", "timezone", "articles", "article", "langue",
            "exporter", "export"]


async def read(world: World, data: st.DataObject) -> None:
    """A command that shows what the bot knows: results, opinions, settings…"""
    name = data.draw(st.sampled_from(READINGS), label="reading")
    await say(world, data, f"/{name}")


async def configure(world: World, data: st.DataObject) -> None:
    """An administrator (a person or the group itself) changes a setting, or posts the polls,
    with arguments the command understands."""
    name = data.draw(st.sampled_from(["langue", "lang", "bilan", "digest", "fuseau",
                                      "timezone", "article", "sondage", "poll"]),
                     label="setting")
    argument = data.draw(st.sampled_from(["", *COMMAND_WORDS[name]]), label="argument")
    anonymous = data.draw(st.booleans(), label="as the group")
    chat = draw_chat(world, data)
    assert chat is not None
    admins = sorted(world.api.admins.get(chat["id"], {}))
    admin = next((u for u in world.users.values() if admins and u["id"] == admins[0]), None)
    if chat["type"] == "private":
        sender = draw_sender(world, data, chat)
    elif anonymous or admin is None:
        sender = Sender(None, chat)
    else:
        sender = Sender(admin, None)
    await say(world, data, telegram_text(f"/{name} {argument}"), chat=chat, sender=sender)


def discussed(message: JSON) -> bool:
    """A message whose replies are opinions: a poll or a summary."""
    return "poll" in message or message.get("text", "").startswith("📰")


async def discuss(world: World, data: st.DataObject) -> None:
    """The discussion: an opinion in reply to a poll or a summary, /opinion with a text, the
    listing, /delete (by number or in reply), /forgetme."""
    kind = data.draw(
        st.sampled_from(["reply", "reply", "reply", "opinion", "opinion", "listing", "delete",
                         "delete in reply", "forget"]),
        label="discussion",
    )
    text = data.draw(texts, label="text")
    english = data.draw(st.booleans(), label="in English")
    number = data.draw(st.integers(0, 30), label="opinion number")
    where = draw_chat(world, data, [c for c in world.writable() if any(
        discussed(m) for m in world.bot_messages(c["id"]))])
    targets = [m for m in world.bot_messages(where["id"]) if discussed(m)] if where else []
    target = pick(data, targets, "poll or summary")
    chat, replied = (where, target) if target is not None and kind == "reply" else (None, None)
    command = {
        "reply": text,
        "opinion": ("/opinion " if english else "/avis ") + text,
        "listing": "/opinions" if english else "/avis",
        "delete": ("/delete " if english else "/supprimer ") + str(number),
        "delete in reply": "/delete" if english else "/supprimer",
        "forget": "/forgetme" if english else "/oublier",
    }[kind]
    reply = strip_reply(replied) if replied is not None else None
    await say(world, data, telegram_text(command), chat=chat, reply=reply)


async def crowd(world: World, data: st.DataObject) -> None:
    """Many opinions at once on one poll or summary (in one batch): some long, some by the
    same people (beyond the rate limit), enough to fill several pages of the listing."""
    groups = [c for c in world.writable() if c["type"] != "private"]
    where = draw_chat(world, data, [c for c in groups if any(
        discussed(m) for m in world.bot_messages(c["id"]))])
    targets = [m for m in world.bot_messages(where["id"]) if discussed(m)] if where else []
    replied = pick(data, targets, "poll or summary")
    opinions = data.draw(
        st.lists(st.tuples(st.sampled_from(sorted(world.users)), texts), min_size=2,
                 max_size=12),
        label="opinions (author, text)",
    )
    if where is None or replied is None:
        return
    last = 0
    for author, text in opinions:
        if text:
            message = world.message(where, world.users[author], text, reply_to=strip_reply(replied))
            last = world.push_message(message)
    if last:
        await world.settle(last)


async def edit(world: World, data: st.DataObject) -> None:
    """Someone edits one of their messages: a new text, a command, or the same text."""
    posted = pick(data, sorted(world.posted.values(), key=lambda p: (p.chat_id, p.message_id)),
                  "edited message")
    text = data.draw(st.one_of(texts, command_texts(), st.just("")), label="new text")
    if posted is None:
        return
    key = (posted.chat_id, posted.message_id)
    text = text or posted.texts[-1]
    message = {**world.api.messages[key], "text": text, "edit_date": int(time.time())}
    message.pop("entities", None)
    if command_entity(text):
        message["entities"] = command_entity(text)
    world.api.messages[key] = message
    posted.texts.append(text)
    opinions_before = await world.opinions()
    await world.settle(world.push_message(message, edited=True))
    assert set(await world.opinions()) == set(opinions_before), "an edit added or removed one"


def forged_data(presser: JSON) -> st.SearchStrategy[str]:
    """Button data a modified client can send (at most 64 bytes), and beyond."""
    fields = st.one_of(
        st.sampled_from(
            ["fr", "en", "de", "", "0", "1", "-1", "²", "٣", "999999999999999999", "9" * 19,
             "yes", "no", "YES", "openai-board-2023-11", "other-article", str(presser["id"]),
             str(MAX_ID), "10", "11"]
        ),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
    )
    structured = st.builds(
        lambda kind, parts: ":".join([kind, *parts]),
        st.sampled_from(["lang", "ops", "forget", "LANG", "ops ", "", "x"]),
        st.lists(fields, max_size=3),
    )
    return st.one_of(
        structured,
        structured,
        structured.map(lambda d: d * 10),
        st.text(max_size=100),
        st.just("ops:" + "9" * 80),
    )


async def press(world: World, data: st.DataObject) -> None:
    """A press on a button of a bot message: its own data, another message's (stale), forged
    data, none (a game), twice in a row (a double tap), or on a message sent inline."""
    presser = world.users[str(pick(data, sorted(world.users), "presser"))]
    chats = [c for c in world.writable() if world.bot_messages(c["id"])]
    chat = draw_chat(world, data, chats) if data.draw(st.integers(0, 5), label="inline") else None
    if chat is not None and chat["type"] == "private":
        presser = world.users_by_id[chat["id"]]  # no one else sees a private chat
    messages = world.bot_messages(chat["id"]) if chat is not None else []
    with_keyboard = [m for m in messages if m.get("reply_markup")]
    message = pick(data, with_keyboard if data.draw(st.booleans(), label="with a keyboard")
                   and with_keyboard else messages, "message")
    own = [
        button["callback_data"]
        for row in (message or {}).get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
    ]
    anywhere = sorted(
        button["callback_data"]
        for c in world.chats.values()
        for m in world.bot_messages(c["id"])
        for row in m.get("reply_markup", {}).get("inline_keyboard", [])
        for button in row
    )
    source = data.draw(st.sampled_from(["own", "own", "stale", "forged", "none"]), label="data")
    forged = data.draw(forged_data(presser), label="forged data")
    payload = {
        "own": pick(data, own, "own button") or forged,
        "stale": pick(data, anywhere, "stale button") or forged,
        "forged": forged,
        "none": None,
    }[source]
    times = data.draw(st.sampled_from([1, 1, 2]), label="presses")
    settings_before = await world.chat_settings(chat["id"]) if chat is not None else None
    opinions_before = await world.opinions()
    ballots_before = await world.ballots()
    last = 0
    for _ in range(times):
        last = world.press(chat, presser, message, payload)
    await world.settle(last)
    if settings_before is not None and not world.is_admin(chat, presser, None):
        assert await world.chat_settings(chat["id"]) == settings_before, "a member's change"
    # Only one's own "forget me" removes anything, and only one's own votes and opinions.
    opinions_after = await world.opinions()
    removed = [o for i, o in opinions_before.items() if i not in opinions_after]
    assert all(o.user_id == presser["id"] for o in removed), removed
    lost = ballots_before - await world.ballots()
    assert all(user == presser["id"] for _, user, _ in lost), lost


def open_polls(world: World) -> list[JSON]:
    return [p for p in world.polls if not world.api.polls[p["id"]]["is_closed"]]


async def vote(world: World, data: st.DataObject) -> None:
    """A real answer (or retraction) on one of the bot's polls, as Telegram sends it."""
    poll = pick(data, open_polls(world), "poll")
    known = pick(data, sorted(world.users), "known voter")
    stranger = data.draw(st.integers(1, MAX_ID), label="or a stranger's id")
    voter = (
        world.users[str(known)]
        if data.draw(st.booleans(), label="known")
        else {"id": stranger, "is_bot": False, "first_name": f"V{stranger}"}
    )
    choices = data.draw(st.lists(st.integers(0, 11), unique=True, max_size=4), label="options")
    also = data.draw(st.booleans(), label="with the poll's state")
    assert poll is not None
    server = world.api.polls[poll["id"]]
    options = [c for c in choices if c < len(server["options"])]
    if not server["allows_multiple_answers"]:
        options = options[:1]
    await world.settle(world.api.vote(poll["id"], voter, options, also_poll_update=also))


async def storm(world: World, data: st.DataObject) -> None:
    """Many answers at once, in one batch: some change or retract others."""
    poll = pick(data, open_polls(world), "poll")
    voters = data.draw(st.lists(st.integers(1, 6), min_size=2, max_size=30), label="voters")
    assert poll is not None
    count = len(world.api.polls[poll["id"]]["options"])
    last = 0
    for n, voter in enumerate(voters):
        user = {"id": MAX_ID - voter, "is_bot": False, "first_name": f"S{voter}"}
        last = world.api.vote(poll["id"], user, [] if n % 4 == 3 else [(voter + n) % count])
    await world.settle(last)


async def forged_answer(world: World, data: st.DataObject) -> None:
    """A poll_answer Telegram would never send: an unknown poll, unknown options, positions
    out of range, a chat as voter, nobody."""
    known = pick(data, world.polls, "known poll")
    unknown = data.draw(st.one_of(st.text(max_size=70), st.integers(0, 2**64).map(str)),
                        label="unknown poll id")
    poll_id = known["id"] if known is not None and data.draw(st.booleans(), label="known") else (
        unknown)
    answer: JSON = {
        "poll_id": poll_id,
        "option_ids": data.draw(st.lists(st.integers(-5, 2**31 - 1), max_size=4),
                                label="option ids"),
    }
    persistent = data.draw(st.lists(st.text(max_size=8), max_size=4), label="persistent ids")
    if persistent or data.draw(st.booleans(), label="persistent ids field"):
        answer["option_persistent_ids"] = persistent
    who = data.draw(st.sampled_from(["user", "voter_chat", "nobody"]), label="who")
    user_id = data.draw(st.integers(1, MAX_ID), label="user id")
    name = telegram_text(data.draw(short_texts, label="name")) or "?"  # never empty
    voter_chat = pick(data, [world.chats[c] for c in ("A", "B", "lobby", "channel")],
                      "voter chat")
    if who == "user":
        answer["user"] = {"id": user_id, "is_bot": False, "first_name": name}
    elif who == "voter_chat":
        answer["voter_chat"] = dict(voter_chat or {})
    world.tainted.add(poll_id)
    await world.settle(world.push("poll_answer", answer))


async def poll_state(world: World, data: st.DataObject) -> None:
    """The state of a poll the bot does not know, or of one of its named polls."""
    named = pick(data, [p for p in world.polls if not p["is_anonymous"]], "named poll")
    unknown = data.draw(st.text(min_size=1, max_size=70), label="unknown poll id")
    counts = data.draw(st.lists(st.integers(0, 2**31 - 1), min_size=2, max_size=12),
                       label="counts")
    if named is not None and data.draw(st.booleans(), label="known"):
        state = world.api.poll_payload(named["id"])
    else:
        state = {"id": unknown, "question": "?", "total_voter_count": 0, "is_closed": False,
                 "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}
    state["options"] = [
        {"text": f"o{i}", "voter_count": c, "persistent_id": f"p{i}"} for i, c in enumerate(counts)
    ]
    state["total_voter_count"] = max(counts)
    await world.settle(world.push("poll", state))


async def membership(world: World, data: st.DataObject) -> None:
    """The bot is removed from, added to, or promoted in the lobby."""
    lobby = world.chats["lobby"]
    new = data.draw(st.sampled_from(["member", "administrator", "left", "kicked"]),
                    label="the bot becomes")
    by = world.users[str(pick(data, sorted(world.users), "by"))]
    old = world.api.bot_status.get(lobby["id"], "member")
    if new in ("left", "kicked"):
        world.once_removed.add(lobby["id"])
    world.bot_present[lobby["id"]] = new in ("member", "administrator")
    await world.settle(world.api.my_chat_member(lobby, by, old, new))


async def migrate(world: World, data: st.DataObject) -> None:
    """B becomes a supergroup (once): its settings, polls and opinions follow it."""
    if world.moved:
        return
    old, new = world.chats["B"]["id"], -1009999999999999  # 16 digits, 50 bits
    world.moved[new] = old
    update_id = world.api.migrate(old, new)
    world.chats["B"] = world.api.chats[new]
    world.focus = new if world.focus == old else world.focus
    # The supergroup numbers its messages from 1 again, as Telegram does.
    await world.settle(update_id)


async def oddity(world: World, data: st.DataObject) -> None:
    """Updates the bot does not handle, messages without text, and unreadable updates."""
    chat = draw_chat(world, data)
    user = world.users[str(pick(data, sorted(world.users), "user"))]
    kind = data.draw(
        st.sampled_from(
            ["sticker", "photo caption", "location", "new members", "pinned", "inline query",
             "reaction", "chat member", "future", "unreadable", "no date", "forward"]
        ),
        label="oddity",
    )
    caption = data.draw(command_texts(), label="caption or forwarded text")
    assert chat is not None
    if chat["type"] == "private":
        user = world.users_by_id[chat["id"]]
    media = {
        "sticker": {"sticker": {"file_id": "s", "file_unique_id": "u", "type": "regular",
                                "width": 512, "height": 512, "is_animated": False,
                                "is_video": False}},
        "photo caption": {"photo": [{"file_id": "p", "file_unique_id": "q", "width": 90,
                                     "height": 90}], "caption": caption or "?"},
        "location": {"location": {"latitude": 48.85, "longitude": 2.35}},
        "new members": {"new_chat_members": [dict(world.users["odd"]),
                                             dict(world.api.bot_user)]},
        "pinned": {"pinned_message": {"message_id": 1, "date": 0, "chat": dict(chat)}},
    }
    if kind in media:
        update_id = world.push_message(world.message(chat, user, None, extra=media[kind]))
    elif kind == "forward":
        update_id = world.push_message(world.message(
            chat, user, caption or "?",
            extra={"forward_origin": {"type": "hidden_user", "sender_user_name": "X",
                                      "date": 1_700_000_000}}))
    elif kind == "inline query":
        update_id = world.push("inline_query", {
            "id": "42", "from": user, "query": caption, "offset": ""})
    elif kind == "reaction":
        update_id = world.push("message_reaction", {
            "chat": chat, "message_id": 1, "user": user, "date": 1_700_000_000,
            "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]})
    elif kind == "chat member":
        update_id = world.push("chat_member", {
            "chat": chat, "from": user, "date": 1_700_000_000,
            "old_chat_member": FakeBotAPI.member_payload(user, "member", chat["type"]),
            "new_chat_member": FakeBotAPI.member_payload(user, "administrator", chat["type"]),
        })
    elif kind == "no date":
        update_id = world.push("message", {"message_id": 5, "chat": chat, "text": "/aide"})
    elif kind == "unreadable":
        update_id = world.push("message", {"message_id": "not a number", "chat": "?"})
    else:
        update_id = world.push("some_future_update", {"anything": True})
    await world.settle(update_id)


ACTIONS: dict[str, Action] = {
    "message": plain_message,
    "command": command,
    "discuss": discuss,
    "crowd": crowd,
    "read": read,
    "configure": configure,
    "edit": edit,
    "press": press,
    "vote": vote,
    "storm": storm,
    "forged answer": forged_answer,
    "poll state": poll_state,
    "membership": membership,
    "migrate": migrate,
    "oddity": oddity,
}


def mix(**weights: int) -> list[str]:
    assert set(weights) <= set(ACTIONS)
    return [kind for kind, weight in weights.items() for _ in range(weight)]


# --------------------------------------------------------------------------- helpers


def arguments_of(text: str, *names: str) -> list[str] | None:
    """The arguments of `text` if python-telegram-bot reads it as one of the commands `names`
    (from the command's entity, unless addressed to another bot), else None."""
    entity = command_entity(text)
    if not entity:
        return None
    name, _, bot = text[1 : entity[0]["length"]].partition("@")
    if name.lower() not in names or (bot and bot.lower() != "agora_test_bot"):
        return None
    return text.split()[1:]


# --------------------------------------------------------------------------- the fuzz tests


async def run(
    new_database: Callable[[], Awaitable[str]],
    data: st.DataObject,
    kinds: list[str],
    steps: int,
) -> None:
    async with fresh_world(await new_database()) as world:
        focus = pick(data, sorted(world.chats), "focus")
        world.focus = world.chats[str(focus)]["id"]
        for step in range(steps):
            kind = data.draw(st.sampled_from(kinds), label=f"step {step}")
            await ACTIONS[kind](world, data)
        await world.check()


EVERYTHING = mix(message=3, command=4, read=1, configure=1, discuss=2, crowd=1, edit=2, press=3,
                 vote=2, storm=1, membership=1, migrate=1, oddity=1,
                 **{"forged answer": 1, "poll state": 1})
DISCUSSION = mix(discuss=5, crowd=2, edit=2, press=3, read=2, command=1, message=1)
POLLS_AND_BUTTONS = mix(vote=3, storm=1, press=4, read=1, configure=2, command=1, discuss=1,
                        migrate=1, **{"forged answer": 2, "poll state": 1})


@fuzz_settings(EXAMPLES)
@given(data=st.data())
async def test_any_updates(new_database: Callable[[], Awaitable[str]], data: st.DataObject) -> None:
    """Everything at once: messages, commands, edits, buttons, answers, odd updates."""
    await run(new_database, data, EVERYTHING, steps=12)


@fuzz_settings(EXAMPLES)
@given(data=st.data())
async def test_any_discussion(
    new_database: Callable[[], Awaitable[str]], data: st.DataObject
) -> None:
    """Opinions of any text, listings and their pages, edits, removals, forget-me."""
    await run(new_database, data, DISCUSSION, steps=12)


@fuzz_settings(EXAMPLES)
@given(data=st.data())
async def test_any_answers_and_buttons(
    new_database: Callable[[], Awaitable[str]], data: st.DataObject
) -> None:
    """Answers Telegram sends and answers it never would, poll states, button presses."""
    await run(new_database, data, POLLS_AND_BUTTONS, steps=12)


# --------------------------------------------------------------------------- defects found
# What the fuzzer found, each as the shortest sequence of updates that showed it, on SQLite
# and, like the rest of the suite, on PostgreSQL when TEST_DATABASE_URL is set.


async def test_found_a_time_zone_naming_a_folder_is_unknown(database_url: str) -> None:
    async with fresh_world(database_url) as world:
        ada, chat = world.users["ada"], world.chats["@ada"]
        answers = {}
        for name in ("Europe", "a" * 300):
            [answers[name]] = await world.agora.command(chat, ada, f"/fuseau {name}")
        unknown = "Je ne connais pas le fuseau horaire «\xa0{}\xa0»."
        assert answers["Europe"]["text"].startswith(unknown.format("Europe"))
        cut = "a" * 63 + "…"  # what was typed, cut: the answer stays short
        assert answers["a" * 300]["text"].startswith(unknown.format(cut))


async def test_found_a_double_tap_edits_the_message_once(
    database_url: str,
) -> None:
    async with fresh_world(database_url) as world:
        bob, chat = world.users["bob"], world.chats["@bob"]
        [keyboard] = await world.agora.command(chat, bob, "/lang")
        world.press(chat, bob, keyboard, "lang:en")
        await world.settle(world.press(chat, bob, keyboard, "lang:en"))
        await world.agora.sent_out()
        assert world.refusals == []
        edited = world.api.messages[chat["id"], keyboard["message_id"]]
        assert edited["text"].startswith("From now on I speak English in this chat.")


async def test_found_forged_button_data_on_a_poll_edits_nothing(database_url: str) -> None:
    async with fresh_world(database_url) as world:
        bob, group = world.users["bob"], world.chats["A"]
        poll = world.api.sent(group["id"], "sendPoll")[0]
        await world.settle(world.press(group, bob, poll, f"forget:{bob['id']}:no"))
        await world.agora.sent_out()
        assert world.refusals == []


async def test_found_a_button_of_no_known_kind_is_answered(database_url: str) -> None:
    async with fresh_world(database_url) as world:
        bob, chat = world.users["bob"], world.chats["@bob"]
        [summary] = world.api.sent(chat["id"])
        await world.settle(world.press(chat, bob, summary, "vote:1"))
        await world.agora.sent_out()
        query_id = list(world.api.callback_queries)[-1]
        assert world.api.callback_answers[query_id]["text"] == "This button is no longer valid."


async def test_found_a_supergroup_message_is_not_its_former_group_message_of_the_same_id(
    database_url: str,
) -> None:
    async with fresh_world(database_url) as world:
        bob, group = world.users["bob"], world.chats["B"]
        poll = world.api.sent(group["id"], "sendPoll")[0]
        await world.agora.command(group, bob, "Mon avis", reply_to_message_id=poll["message_id"])
        written = world.api.last_message_id(group["id"])
        [opinion] = (await world.opinions()).values()
        supergroup = -1009999999999999
        await world.settle(world.api.migrate(group["id"], supergroup))
        moved = world.api.chats[supergroup]
        max_ = world.api.user(77, "Max")  # a member, not an administrator
        await world.agora.command(moved, max_, "Bonjour", message_id=written)
        await world.agora.command(moved, max_, "Bonjour à tous", edit=True, message_id=written)
        [after] = (await world.opinions()).values()
        assert (after.user_id, after.text) == (bob["id"], "Mon avis") == (
            opinion.user_id,
            opinion.text,
        )


async def test_found_delete_with_a_number_beyond_32_bits(database_url: str) -> None:
    """PostgreSQL's INTEGER stops at 2**31 - 1: a larger number is no opinion's."""
    async with fresh_world(database_url) as world:
        ada, group = world.users["ada"], world.chats["A"]
        [answer] = await world.agora.command(group, ada, "/supprimer 2147483648")
        assert answer["text"].startswith("Répondez avec /supprimer à l’avis à supprimer")
