"""The rate limiter keeps every window of Telegram's limits, and serves the urgent first."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.delivery.limiter import GLOBAL_BURST, GROUP_BURST, RateLimiter, Window


def within_windows(times: list[float], count: int, span: float) -> bool:
    """No `span`-long stretch holds more than `count` of `times`."""
    times = sorted(times)
    return all(times[i + count] - times[i] >= span for i in range(len(times) - count))


async def test_global_private_and_group_windows_hold() -> None:
    # 300 messages a second overall, 50 a second per private chat, 2,000 a minute per group.
    limiter = RateLimiter(global_per_second=300, chat_per_second=50, group_per_minute=2000)
    granted: dict[int, list[float]] = {}

    async def send(chat_id: int) -> None:
        async with limiter.chat(chat_id):
            await limiter.turn(chat_id, priority=0)
            granted.setdefault(chat_id, []).append(time.monotonic())
            await asyncio.sleep(0.001)  # on the wire
            limiter.done(chat_id)

    chats = [1, 2, 3, -100, -200]
    await asyncio.gather(*(send(chats[n % len(chats)]) for n in range(150)))
    everything = [t for times in granted.values() for t in times]
    assert within_windows(everything, GLOBAL_BURST, GLOBAL_BURST / 300)
    for chat_id, times in granted.items():
        if chat_id > 0:
            assert within_windows(times, 1, 1 / 50)
        else:
            assert within_windows(times, GROUP_BURST, GROUP_BURST * 60 / 2000)
    await limiter.close()


async def test_urgent_messages_overtake_waiting_ones() -> None:
    limiter = RateLimiter(global_per_second=60, chat_per_second=1000, group_per_minute=60_000)
    order: list[str] = []

    async def send(label: str, chat_id: int, priority: int) -> None:
        async with limiter.chat(chat_id):
            await limiter.turn(chat_id, priority)
            order.append(label)
            limiter.done(chat_id)

    broadcast = [asyncio.create_task(send(f"b{n}", -n - 1, 60)) for n in range(90)]
    await asyncio.sleep(0.1)  # the first window's 30 are through; 60 broadcasts are waiting
    await asyncio.gather(send("reply", 7, 0), send("code", 8, 10))
    await asyncio.gather(*broadcast)
    waiting_broadcasts_sent_before_reply = order.index("reply") - GLOBAL_BURST
    assert waiting_broadcasts_sent_before_reply <= 1  # at most the one already being handed out
    assert order.index("reply") < order.index("code") < order.index("b89")
    await limiter.close()


async def test_a_request_counts_until_its_answer_plus_the_window() -> None:
    window = Window(2, 1.0)
    window.take()
    window.take()
    assert window.wait(10.0) is None  # both in flight: wait for an answer, however long
    window.done(10.0)
    window.done(10.4)
    assert window.wait(10.5) == pytest.approx(0.5)  # until the first answer leaves the window
    assert window.wait(11.1) == 0
    window.paused_until = 20.0  # a 429 asked us to wait
    assert window.wait(11.1) == 20.0 - 11.1


async def test_in_a_busy_group_a_reply_to_a_question_goes_before_waiting_edits() -> None:
    # A group allows 20 a minute: here 20 in 0.2 s, so the rest wait for the window.
    limiter = RateLimiter(global_per_second=1000, chat_per_second=1000, group_per_minute=6000)
    order: list[str] = []

    async def send(label: str, priority: int) -> None:
        async with limiter.chat(-100, priority):
            await limiter.turn(-100, priority)
            order.append(label)
            await asyncio.sleep(0.001)
            limiter.done(-100)

    edits = [asyncio.create_task(send(f"edit{n}", 55)) for n in range(40)]
    notices = [asyncio.create_task(send(f"closed{n}", 20)) for n in range(5)]
    await asyncio.sleep(0.05)  # the window is full; 20 or so wait
    await send("today", 0)
    await asyncio.gather(*edits, *notices)
    # The first edit had the turn; the closing notices overtook the other 39 edits.
    assert order[:6] == ["edit0", *(f"closed{n}" for n in range(5))]
    # The window filled; the question waited only for the one already holding the turn.
    assert GROUP_BURST <= order.index("today") <= GROUP_BURST + 1
    edit_order = [label for label in order if label.startswith("edit")]
    assert edit_order == sorted(edit_order, key=lambda label: int(label[4:]))  # same priority: FIFO
    await limiter.close()
