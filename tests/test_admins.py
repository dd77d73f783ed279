"""Administrator rights that follow Telegram: a demoted administrator loses their powers
within the cache's minute, though no chat_member update tells the bot (it is no admin)."""

from __future__ import annotations

import asyncio

from bot.engine.admins import AdminCache
from tests.support.botapi import FakeBotAPI
from tests.support.harness import Agora


async def test_a_demoted_admin_loses_admin_commands_within_the_cache_lifetime(
    agora: Agora, api: FakeBotAPI
) -> None:
    assert AdminCache().ttl <= 60
    admins = agora.app.bot_data.services.admins
    admins.ttl = 0.5  # the same rule, on a scale a test can wait for
    group = api.group(-100950, "Débat")
    ada = api.user(10, "Ada")
    api.set_admin(group["id"], ada)
    [on] = await agora.command(group, ada, "/bilan on")
    assert not on["text"].startswith("Seuls")

    api.set_admin(group["id"], ada, "member")  # no chat_member update: the bot is no admin
    assert api.bot_status.get(group["id"]) not in ("administrator", "creator")
    await asyncio.sleep(admins.ttl + 0.1)
    [refused] = await agora.command(group, ada, "/sondage")
    assert refused["text"] == (
        "Seuls les administrateurs du groupe peuvent publier les sondages\u00a0: "
        "demandez-le à l’un d’eux."
    )
    assert api.calls_of("sendPoll") == []
