"""Telegram's flood limits as the sender counts them (bot.engine.sending.flood), without a bot."""

from __future__ import annotations

import asyncio

from bot.engine.sending.flood import Occupancy, Pacer


def test_a_call_occupies_as_many_places_as_the_messages_it_sends() -> None:
    window = Occupancy(3, 1.0)
    window.take(2)  # an album of two photos, in flight
    assert window.wait(0.0) == 0.0  # one place left
    assert window.wait(0.0, 2) is None  # two only once the album is answered
    window.done(0.5, 2)  # both places held until one period after the answer
    assert window.wait(0.6, 1) == 0.0
    assert window.wait(0.6, 2) == 0.5 + 1.0 - 0.6
    assert window.wait(1.5, 3) == 0.0
    window.take(12)  # more than the capacity counts as the whole capacity
    assert window.wait(1.5) is None


async def test_the_pacer_never_lets_an_album_overfill_a_second() -> None:
    """Three places a period: while they are taken, an album of three, an answer and a poll
    wait; the answer and the poll go first (most urgent), the album once three places free."""
    pacer = Pacer(Occupancy(3, 0.2))
    order: list[str] = []
    started: dict[str, float] = {}
    loop = asyncio.get_running_loop()

    async def send(name: str, priority: int, places: int) -> None:
        async with pacer.place(priority, len(order), places):
            order.append(name)
            started[name] = loop.time()
            await asyncio.sleep(0.01)

    first = asyncio.create_task(send("first", 1, 3))
    await asyncio.sleep(0)  # it holds every place
    await asyncio.gather(first, send("album", 2, 3), send("answer", 0, 1), send("poll", 1, 1))
    assert order == ["first", "answer", "poll", "album"]
    # The album needs the places the answer and the poll hold until a period after them.
    assert started["album"] - started["poll"] >= 0.2


def test_places_held_before_a_restart_are_counted() -> None:
    """A limiter started anew counts the calls answered before it (each frees its place one
    period after its answer), in order with its own."""
    window = Occupancy(3, 60.0)
    window.take()
    window.done(10.0)  # free at 70
    window.hold([65.0, 40.0, 5.0], now=10.0)  # the one free at 5 is free already
    assert window.wait(10.0) == 30.0  # all three taken until the first frees, at 40
    assert window.wait(41.0) == 0.0
    assert window.wait(41.0, 2) == 65.0 - 41.0
    assert window.wait(71.0, 3) == 0.0
