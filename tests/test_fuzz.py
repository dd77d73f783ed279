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

The world, the strategies and the actions are in tests/support/fuzz/. Defects the fuzzer found
are pinned beside their features (tests/test_commands.py, tests/test_discussion.py), each the
shortest sequence of updates that showed it, replayed in the fuzzer's world.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.settings import async_database_url
from tests.conftest import reset_postgresql
from tests.support.fuzz.actions import ACTIONS, mix
from tests.support.fuzz.common import EXAMPLES, fuzz_settings
from tests.support.fuzz.strategies import pick
from tests.support.fuzz.world import fresh_world

pytestmark = pytest.mark.slow

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


