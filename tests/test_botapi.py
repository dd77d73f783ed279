"""Self-test of the fake Bot API server against the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
import telegram
from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReactionTypeEmoji,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.support.botapi import FakeBotAPI, parse_html

TOKEN = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ0123456789"
GROUP_ID = -1001234567890


def png(width: int, height: int) -> bytes:
    """A valid one-colour PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    server = FakeBotAPI(TOKEN, seed=1)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert not server.server_errors, "\n".join(server.server_errors)


@pytest_asyncio.fixture
async def bot(api: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=f"{api.url}/bot") as client:
        yield client


@pytest.mark.asyncio
async def test_get_me_and_routing(api: FakeBotAPI, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.id == api.bot_id
    assert me.username == "agora_test_bot"
    assert me.is_bot
    assert me.can_join_groups
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    assert api.calls[0] == ("getMe", {})

    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert await bot.do_api_request("GETME") == me.to_dict() | {"id": api.bot_id}

    stranger = telegram.Bot("1:wrong", base_url=f"{api.url}/bot")
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()


@pytest.mark.asyncio
async def test_send_message_plain_html_and_errors(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    chat = api.private_chat(alice)

    plain = await bot.send_message(chat["id"], "  Bonjour 1 < 2 & 3 > 2  ")
    assert plain.text == "Bonjour 1 < 2 & 3 > 2"
    assert plain.chat.id == 11
    assert plain.from_user is not None
    assert plain.from_user.is_bot
    assert plain.message_id == 1

    html = await bot.send_message(
        chat["id"],
        "<b>Gras</b> &amp; <i>ital 😀</i> <a href='https://example.org'>lien</a>",
        parse_mode="HTML",
        reply_to_message_id=plain.message_id,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="y")]]),
    )
    assert html.text == "Gras & ital 😀 lien"
    kinds = [(e.type, e.offset, e.length) for e in html.entities]
    assert kinds == [("bold", 0, 4), ("italic", 7, 7), ("text_link", 15, 4)]
    assert html.entities[2].url == "https://example.org/"
    assert html.reply_to_message is not None
    assert html.reply_to_message.message_id == 1
    assert html.reply_markup is not None
    assert html.reply_markup.inline_keyboard[0][0].callback_data == "y"
    assert [m["message_id"] for m in api.sent(chat["id"], "sendMessage")] == [1, 2]
    assert api.calls[-1][1]["parse_mode"] == "HTML"
    assert api.calls[-1][1]["chat_id"] == 11

    for bad in ("<b>jamais fermé", "1 < 2", "<p>para</p>", "<b>x</i>", "a & b"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(chat["id"], bad, parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat["id"], "   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat["id"], "😀" * 2049)
    assert (await bot.send_message(chat["id"], "😀" * 2048)).text == "😀" * 2048
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "?")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(chat["id"], "?", reply_to_message_id=999)


def test_parse_html_matches_telegram() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>long</blockquote><tg-spoiler>s</tg-spoiler>"
        '<span class="tg-spoiler">t</span>&#128512;&lt;'
    )
    assert text == "x = 1longst😀<"
    assert entities == [
        {"offset": 0, "length": 5, "type": "pre", "language": "python"},
        {"offset": 5, "length": 4, "type": "expandable_blockquote"},
        {"offset": 9, "length": 1, "type": "spoiler"},
        {"offset": 10, "length": 1, "type": "spoiler"},
    ]
    assert parse_html("a & b > c", strict=False) == ("a & b > c", [])


@pytest.mark.asyncio
async def test_poll_votes_and_answers(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    bob = api.user(12, "Bob", language_code="en")
    group = api.group(GROUP_ID, "Agora")

    message = await bot.send_poll(
        GROUP_ID, "Pour ou contre ?", ["Pour", "Contre", "Abstention"], is_anonymous=False
    )
    poll = message.poll
    assert poll is not None
    assert not poll.is_anonymous
    assert not poll.is_closed
    assert poll.allows_revoting
    assert not poll.members_only
    persistent = [option.persistent_id for option in poll.options]
    assert len(set(persistent)) == 3
    assert all(persistent)
    assert poll.id in api.polls
    assert api.polls[poll.id]["message_id"] == message.message_id

    api.vote(poll.id, alice, [0])
    api.vote(poll.id, bob, [0])
    last = api.vote(poll.id, alice, [1])
    updates = await bot.get_updates(timeout=0)
    answers = [u.poll_answer for u in updates if u.poll_answer is not None]
    assert len(answers) == 3
    assert updates[-1].update_id == last
    assert answers[-1].option_ids == (1,)
    assert answers[-1].option_persistent_ids == (persistent[1],)
    assert answers[-1].user is not None
    assert answers[-1].user.id == 11
    stored = api.polls[poll.id]
    assert [o["voter_count"] for o in stored["options"]] == [1, 1, 0]
    assert stored["total_voter_count"] == 2
    api.vote(poll.id, bob, [])  # retraction
    assert [o["voter_count"] for o in api.polls[poll.id]["options"]] == [0, 1, 0]

    anonymous = await bot.send_poll(GROUP_ID, "Secret ?", ["Oui", "Non"])
    assert anonymous.poll is not None
    assert anonymous.poll.is_anonymous
    api.vote(anonymous.poll.id, alice, [1])
    updates = await bot.get_updates(offset=last + 1, timeout=0)
    assert updates[-1].poll is not None
    assert updates[-1].poll_answer is None
    assert updates[-1].poll.options[1].voter_count == 1
    assert updates[-1].poll.total_voter_count == 1

    stopped = await bot.stop_poll(GROUP_ID, anonymous.message_id)
    assert stopped.is_closed
    assert stopped.options[1].voter_count == 1
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(GROUP_ID, anonymous.message_id)
    with pytest.raises(ValueError, match="closed"):
        api.vote(anonymous.poll.id, bob, [0])
    with pytest.raises(BadRequest, match=r"(?i)at least 2 option"):
        await bot.send_poll(group["id"], "?", ["Seul"])


@pytest.mark.asyncio
async def test_redelivery_until_acknowledged(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    chat = api.private_chat(alice)
    first = api.send_text(chat, alice, "/start")
    second = api.send_text(chat, alice, "bonjour", reply_to_message_id=1)
    assert api.pending_count() == 2
    assert api.last_message_id(chat["id"]) == 2

    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [first, second]
    redelivered = await bot.get_updates(timeout=0)
    assert [u.update_id for u in redelivered] == [first, second]
    command = redelivered[0].message
    assert command is not None
    assert command.entities[0].type == "bot_command"
    reply = redelivered[1].message
    assert reply is not None
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/start"

    assert [u.update_id for u in await bot.get_updates(offset=first + 1, timeout=0)] == [second]
    await api.wait_acked(first, timeout=1)
    assert api.acked_offset == first + 1
    assert api.pending_count() == 1
    with pytest.raises(TimeoutError, match="1 pending"):
        await api.wait_acked(second, timeout=0.1)
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    await api.wait_acked(second, timeout=1)
    assert api.pending_count() == 0

    edited = api.send_text(chat, alice, "bonjour !", edit=True, message_id=2)
    (update,) = await bot.get_updates(offset=second + 1, timeout=0)
    assert update.update_id == edited
    assert update.edited_message is not None
    assert update.edited_message.edit_date is not None


@pytest.mark.asyncio
async def test_long_poll_wakes_on_push_and_conflicts(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    chat = api.private_chat(alice)
    loop = asyncio.get_running_loop()
    started = loop.time()
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.2)
    api.send_text(chat, alice, "réveil")
    updates = await asyncio.wait_for(waiting, 5)
    assert loop.time() - started < 3
    assert updates[0].message is not None
    assert updates[0].message.text == "réveil"

    empty_started = loop.time()
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == ()
    assert loop.time() - empty_started >= 0.9

    older = asyncio.create_task(bot.get_updates(offset=updates[0].update_id + 1, timeout=10))
    await asyncio.sleep(0.2)
    async with telegram.Bot(TOKEN, base_url=f"{api.url}/bot") as second_instance:
        await second_instance.get_updates(offset=updates[0].update_id + 1, timeout=0)
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(older, 5)


@pytest.mark.asyncio
async def test_members_and_chat_info(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice", username="alice")
    bob = api.user(12, "Bob")
    carol = api.user(13, "Carol")
    api.group(GROUP_ID, "Agora")
    api.set_admin(GROUP_ID, alice, "creator")
    api.set_admin(GROUP_ID, bob)

    owner = await bot.get_chat_member(GROUP_ID, 11)
    admin = await bot.get_chat_member(GROUP_ID, 12)
    member = await bot.get_chat_member(GROUP_ID, 13)
    assert isinstance(owner, ChatMemberOwner)
    assert isinstance(admin, ChatMemberAdministrator)
    assert admin.can_delete_messages
    assert isinstance(member, ChatMemberMember)
    assert member.user.id == carol["id"]
    admins = await bot.get_chat_administrators(GROUP_ID)
    assert [m.user.id for m in admins] == [11, 12]
    assert isinstance(await bot.get_chat_member(GROUP_ID, api.bot_id), ChatMemberMember)
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(GROUP_ID, 999)

    info = await bot.get_chat(GROUP_ID)
    assert isinstance(info, ChatFullInfo)
    assert info.title == "Agora"
    assert info.type == "supergroup"
    assert info.permissions is not None
    private = await bot.get_chat(api.private_chat(alice)["id"])
    assert private.username == "alice"
    assert private.type == "private"
    assert isinstance(await bot.get_chat_member(11, 11), ChatMemberMember)
    assert await bot.send_chat_action(GROUP_ID, "typing")
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(GROUP_ID, "dancing")


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_faults_blocks_and_migration(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    private = api.private_chat(alice)
    api.group(GROUP_ID, "Agora")
    api.group(-555, "Petit groupe", type="group")

    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(GROUP_ID, "vite")
    assert retry.value.retry_after == timedelta(seconds=7)
    assert api.too_many_requests == 1
    assert (await bot.send_message(GROUP_ID, "encore")).text == "encore"

    api.fail_next("send_message", 502, "Bad Gateway", chat_id=-555, times=2)
    assert (await bot.send_message(GROUP_ID, "ailleurs")).text == "ailleurs"
    for _ in range(2):
        with pytest.raises(telegram.error.NetworkError, match="Bad Gateway"):
            await bot.send_message(-555, "ici")
    assert (await bot.send_message(-555, "ici")).text == "ici"

    api.block_chat(GROUP_ID)
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.send_message(GROUP_ID, "toc")
    api.block_chat(private["id"])
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(private["id"], "toc")

    last = api.migrate(-555, -1009999)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-555, "toc")
    assert migrated.value.new_chat_id == -1009999
    assert (await bot.send_message(-1009999, "salut")).chat.type == "supergroup"
    updates = await bot.get_updates(timeout=0)
    assert updates[-1].update_id == last
    old, new = (u.message for u in updates[-2:])
    assert old is not None
    assert old.migrate_to_chat_id == -1009999
    assert new is not None
    assert new.migrate_from_chat_id == -555
    assert new.sender_chat is not None
    assert new.sender_chat.id == -1009999


@pytest.mark.asyncio
async def test_my_chat_member_applies_the_kick(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    group = api.group(GROUP_ID, "Agora")
    api.my_chat_member(group, alice, "member", "administrator")
    update_id = api.my_chat_member(group, alice, "administrator", "kicked")
    updates = await bot.get_updates(timeout=0)
    change = updates[-1].my_chat_member
    assert updates[-1].update_id == update_id
    assert change is not None
    assert change.old_chat_member.status == "administrator"
    assert change.new_chat_member.status == "kicked"
    promoted = updates[0].my_chat_member
    assert promoted is not None
    assert isinstance(promoted.new_chat_member, ChatMemberAdministrator)
    with pytest.raises(Forbidden, match="kicked"):
        await bot.send_message(GROUP_ID, "encore là ?")


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limit(api: FakeBotAPI, bot: telegram.Bot) -> None:
    api.group(GROUP_ID, "Agora")
    api.rate_limit(per_chat_per_minute=2, global_per_second=None)
    await bot.send_message(GROUP_ID, "un")
    await bot.send_message(GROUP_ID, "deux")
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(GROUP_ID, "trois")
    retry_after = retry.value.retry_after
    assert isinstance(retry_after, timedelta)
    assert 1 <= retry_after.total_seconds() <= 60
    assert api.too_many_requests == 1
    assert len(api.sent(GROUP_ID)) == 2


@pytest.mark.asyncio
async def test_per_chat_limit_spares_private_chats(api: FakeBotAPI, bot: telegram.Bot) -> None:
    private = api.private_chat(api.user(11, "Alice"))
    api.group(GROUP_ID, "Agora")
    api.group(-555, "Petit groupe", type="group")
    api.rate_limit(per_chat_per_minute=2, global_per_second=None)
    for n in range(5):
        await bot.send_message(private["id"], f"message {n}")
    for chat_id in (GROUP_ID, -555):
        await bot.send_message(chat_id, "un")
        await bot.send_message(chat_id, "deux")
        with pytest.raises(RetryAfter):
            await bot.send_message(chat_id, "trois")
    assert len(api.sent(private["id"])) == 5
    assert api.too_many_requests == 2


@pytest.mark.asyncio
async def test_global_limit_counts_private_chats(api: FakeBotAPI, bot: telegram.Bot) -> None:
    private = api.private_chat(api.user(11, "Alice"))
    api.rate_limit(per_chat_per_minute=20, global_per_second=3)
    for n in range(3):
        await bot.send_message(private["id"], f"message {n}")
    with pytest.raises(RetryAfter):
        await bot.send_message(private["id"], "de trop")
    assert api.too_many_requests == 1


@pytest.mark.asyncio
async def test_latency_delays_every_call(api: FakeBotAPI, bot: telegram.Bot) -> None:
    private = api.private_chat(api.user(11, "Alice"))
    api.latency = 0.2
    loop = asyncio.get_running_loop()
    for call in (
        bot.get_me(),
        bot.send_message(private["id"], "salut"),
        bot.get_updates(timeout=0),
    ):
        start = loop.time()
        await call
        assert loop.time() - start >= 0.2
    api.latency = 0
    start = loop.time()
    await bot.get_me()
    assert loop.time() - start < 0.2


@pytest.mark.asyncio
async def test_latency_keyword_and_work_at_answer_time() -> None:
    async with FakeBotAPI(TOKEN, latency=0.3) as server:
        assert server.latency == 0.3
        private = server.private_chat(server.user(11, "Alice"))
        async with telegram.Bot(TOKEN, base_url=f"{server.url}/bot") as client:
            sending = asyncio.ensure_future(client.send_message(private["id"], "salut"))
            await asyncio.sleep(0.15)
            assert server.sent() == []
            await sending
        assert [m["text"] for m in server.sent()] == ["salut"]


@pytest.mark.asyncio
async def test_sent_times_and_pushed_at(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    private = api.private_chat(alice)
    group = api.group(GROUP_ID, "Agora")
    before = time.monotonic()
    update_id = api.send_text(private, alice, "/start")
    pushed = api.pushed_at(update_id)
    await bot.send_message(private["id"], "un")
    await asyncio.sleep(0.05)
    await bot.send_message(GROUP_ID, "deux")
    await bot.send_poll(GROUP_ID, "Question ?", ["Oui", "Non"])
    after = time.monotonic()

    assert before <= pushed <= after
    timed = api.sent_times()
    assert [message for _, message in timed] == api.sent()
    times = [accepted for accepted, _ in timed]
    assert times == sorted(times)
    assert pushed <= times[0]
    assert times[-1] <= after
    assert times[1] - times[0] >= 0.05
    in_group = api.sent_times(chat_id=group["id"], method="sendMessage")
    assert [message["text"] for _, message in in_group] == ["deux"]
    polls = api.sent_times(method="send_poll")
    assert [message["poll"]["question"] for _, message in polls] == ["Question ?"]
    with pytest.raises(KeyError):
        api.pushed_at(update_id + 1)


@pytest.mark.asyncio
async def test_photos_and_documents(api: FakeBotAPI, bot: telegram.Bot) -> None:
    group = api.group(GROUP_ID, "Agora")
    image = png(1600, 900)
    message = await bot.send_photo(
        group["id"], image, caption="<b>Résultats</b>", parse_mode="HTML"
    )
    assert message.caption == "Résultats"
    assert message.caption_entities[0].type == "bold"
    biggest = message.photo[-1]
    assert (biggest.width, biggest.height) == (1600, 900)
    assert [p.width for p in message.photo] == [90, 320, 800, 1280, 1600]
    assert api.files[biggest.file_id] == image
    assert api.calls[-1][0] == "sendPhoto"
    assert api.calls[-1][1]["photo"] == image
    again = await bot.send_photo(group["id"], biggest.file_id)
    assert again.photo[-1].file_id == biggest.file_id

    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(group["id"], b"not an image")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(group["id"], image, caption="x" * 1025)

    document = await bot.send_document(group["id"], b"a;b\n1;2\n", filename="votes.csv")
    assert document.document is not None
    assert document.document.file_name == "votes.csv"
    assert document.document.mime_type == "text/csv"
    assert document.document.file_size == 8
    assert [m["message_id"] for m in api.sent(GROUP_ID)] == [1, 2, 3]


@pytest.mark.asyncio
async def test_albums(api: FakeBotAPI, bot: telegram.Bot) -> None:
    group = api.group(GROUP_ID, "Agora")
    first, second = png(1080, 2560), png(1080, 1200)
    album = await bot.send_media_group(
        group["id"],
        [
            InputMediaPhoto(first, caption="<b>Résultats</b> 1/2", parse_mode="HTML"),
            InputMediaPhoto(second),
        ],
    )
    assert [m.message_id for m in album] == [1, 2]
    assert album[0].media_group_id is not None
    assert album[0].media_group_id == album[1].media_group_id
    assert (album[0].caption, album[1].caption) == ("Résultats 1/2", None)
    assert album[0].caption_entities[0].type == "bold"
    assert [(m.photo[-1].width, m.photo[-1].height) for m in album] == [(1080, 2560), (1080, 1200)]
    assert api.files[album[1].photo[-1].file_id] == second
    assert [m["media_group_id"] for m in api.sent(GROUP_ID)] == [album[0].media_group_id] * 2
    # Photos already on the server, by file_id; another album, another group id.
    again = await bot.send_media_group(
        group["id"], [InputMediaPhoto(m.photo[-1].file_id) for m in album]
    )
    assert again[0].media_group_id != album[0].media_group_id

    # Each photo is checked like sendPhoto's, and the album goes out whole or not at all.
    with pytest.raises(BadRequest, match=r"(?i)photo_invalid_dimensions"):
        await bot.send_media_group(
            group["id"], [InputMediaPhoto(first), InputMediaPhoto(png(30, 900))]
        )
    with pytest.raises(BadRequest, match=r"(?i)number of media"):
        await bot.send_media_group(group["id"], [InputMediaPhoto(first)])
    with pytest.raises(BadRequest, match=r"(?i)too much messages"):
        await bot.send_media_group(group["id"], [InputMediaPhoto(second)] * 11)
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_media_group(
            group["id"], [InputMediaPhoto(first, caption="x" * 1025), InputMediaPhoto(second)]
        )
    assert len(api.sent(GROUP_ID)) == 4


@pytest.mark.asyncio
async def test_edit_delete_react_and_callbacks(api: FakeBotAPI, bot: telegram.Bot) -> None:
    alice = api.user(11, "Alice")
    group = api.group(GROUP_ID, "Agora")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Voir", callback_data="see:1")]])
    sent = await bot.send_message(GROUP_ID, "Article", reply_markup=keyboard)

    edited = await bot.edit_message_text(
        "<i>Article</i>", GROUP_ID, sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, telegram.Message)
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # not repeated: Telegram drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<i>Article</i>", GROUP_ID, sent.message_id, parse_mode="HTML")

    update_id = api.callback_query(group, alice, sent.message_id, "see:1")
    (update,) = await bot.get_updates(timeout=0)
    assert update.update_id == update_id
    assert update.callback_query is not None
    assert update.callback_query.data == "see:1"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(update.callback_query.id, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(update.callback_query.id)

    assert await bot.set_message_reaction(GROUP_ID, sent.message_id, [ReactionTypeEmoji("👍")])
    assert api.reactions[(GROUP_ID, sent.message_id)] == [{"type": "emoji", "emoji": "👍"}]
    with pytest.raises(BadRequest):
        await bot.set_message_reaction(GROUP_ID, 404, [ReactionTypeEmoji("👍")])

    api.send_text(group, alice, "spam")
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await bot.delete_message(GROUP_ID, api.last_message_id(GROUP_ID))
    assert await bot.delete_message(GROUP_ID, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(GROUP_ID, sent.message_id)


@pytest.mark.asyncio
async def test_commands_per_language(api: FakeBotAPI, bot: telegram.Bot) -> None:
    await bot.set_my_commands([BotCommand("poll", "Create a poll")])
    await bot.set_my_commands([BotCommand("poll", "Créer un sondage")], language_code="fr")
    await bot.set_my_commands(
        [BotCommand("start", "Commencer")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="fr",
    )
    assert api.commands_for("fr") == [{"command": "poll", "description": "Créer un sondage"}]
    assert api.commands_for("de") == [{"command": "poll", "description": "Create a poll"}]
    assert api.commands_for("fr", scope="all_private_chats")[0]["command"] == "start"
    fetched = await bot.get_my_commands(language_code="fr")
    assert fetched == (BotCommand("poll", "Créer un sondage"),)
    assert await bot.delete_my_commands(language_code="fr")
    assert api.commands_for("fr") == [{"command": "poll", "description": "Create a poll"}]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


@pytest.mark.asyncio
async def test_real_application_polls_answers_and_acknowledges(api: FakeBotAPI) -> None:
    alice = api.user(11, "Alice")
    group = api.group(GROUP_ID, "Agora")
    seen: list[str] = []

    async def poll_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        seen.append(" ".join(context.args or []))
        await context.bot.send_poll(update.effective_chat.id, "Question ?", ["Oui", "Non"])

    app = Application.builder().token(TOKEN).base_url(f"{api.url}/bot").build()
    app.add_handler(CommandHandler("poll", poll_command))
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        update_id = api.send_text(group, alice, "/poll@agora_test_bot anonymous")
        for _ in range(100):
            if api.sent(GROUP_ID, "sendPoll"):
                break
            await asyncio.sleep(0.05)
        await api.wait_acked(update_id, timeout=5)
        await app.updater.stop()
        await app.stop()
    assert seen == ["anonymous"]
    assert api.sent(GROUP_ID, "sendPoll")[0]["poll"]["is_anonymous"] is True
    assert api.pending_count() == 0
    assert [name for name, _ in api.calls][:2] == ["getMe", "deleteWebhook"]


class Receiver:
    """A webhook endpoint: records the update ids posted to it; answers 500 to those in
    `refused`, 200 to the others."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.refused: set[int] = set()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def update(request: web.Request) -> web.Response:
            update_id = (await request.json())["update_id"]
            self.received.append(update_id)
            return web.Response(status=500 if update_id in self.refused else 200)

        app = web.Application()
        app.router.add_post("/hook", update)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = next(a for a in self._runner.addresses if isinstance(a, tuple))[1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    endpoint = Receiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.asyncio
async def test_webhook_wait_acked_waits_for_the_earlier_updates(
    api: FakeBotAPI, bot: telegram.Bot, receiver: Receiver
) -> None:
    """By webhook Telegram forgets each update on its own: the last one answered 200 does not
    mean an earlier one (another voter's, sent again after a 500) is done."""
    api.webhook_retry_delay = 0.05
    await bot.set_webhook(receiver.url)
    alice, bob = api.user(11, "Alice"), api.user(12, "Bob")
    first = api.send_text(api.private_chat(alice), alice, "/start")
    receiver.refused.add(first)
    last = api.send_text(api.private_chat(bob), bob, "/start")
    async with asyncio.timeout(5):
        while last not in receiver.received or receiver.received.count(first) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    with pytest.raises(TimeoutError):
        await api.wait_acked(last, timeout=0.3)
    receiver.refused.clear()
    await api.wait_acked(last, timeout=5)
    assert (await bot.get_webhook_info()).pending_update_count == 0


@pytest.mark.asyncio
async def test_webhook_balancer_passes_over_a_target_that_refuses_connections(
    api: FakeBotAPI, bot: telegram.Bot, receiver: Receiver
) -> None:
    """A load balancer tries the next process when one cannot be reached (nothing was
    sent), within Telegram's one attempt: a dead process is never handed an update again
    and again while the live one takes the other updates in between."""
    api.webhook_retry_delay = 0.05
    await bot.set_webhook(receiver.url)
    api.webhook_targets = [f"http://127.0.0.1:{closed_port()}/hook", receiver.url]
    people = [api.user(20 + i, f"P{i}") for i in range(6)]
    ids = [api.send_text(api.private_chat(p), p, "/start") for p in people]
    for update_id in ids:
        await api.wait_acked(update_id, timeout=5)
    assert sorted(receiver.received) == ids
    assert sorted(api.webhook_deliveries) == [(update_id, 200) for update_id in ids]
