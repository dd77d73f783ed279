"""What the fuzzer does to the bot, one kind of update per function (`ACTIONS`), and the mixes
of them that the fuzz tests draw from."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hypothesis import strategies as st

from tests.support.botapi import (
    FakeBotAPI,
)
from tests.support.fuzz.common import JSON, MAX_ID
from tests.support.fuzz.strategies import (
    COMMAND_WORDS,
    command_texts,
    entities_for,
    pick,
    short_texts,
    telegram_text,
    texts,
)
from tests.support.fuzz.world import World, command_entity, strip_reply

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


