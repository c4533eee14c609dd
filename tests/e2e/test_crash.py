"""kill -9 in the middle of sending pickup codes: after a restart everyone has their code."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

from tests.e2e.story import Story
from tests.fakegram import FakeTelegram, Limits
from tests.instances import bot_env

BUYERS = 150
SPEED = 2  # Telegram's limits, twice as fast: 150 codes take a few seconds
CONCURRENCY = 16  # the sender's: at most this many messages are on the wire at a kill


async def start_bot(env: dict[str, str], telegram: FakeTelegram) -> asyncio.subprocess.Process:
    polls = telegram.polls
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await telegram.wait_for(lambda: telegram.polls > polls, timeout=30)
    return process


def codes_by_buyer(telegram: FakeTelegram, buyers: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for buyer in buyers:
        for message in telegram.sent(buyer):
            if "Your pickup code" in message.text:
                found.setdefault(buyer, []).append(re.search(r"\d{7}", message.text).group())  # type: ignore[union-attr]
    return found


async def test_a_killed_bot_delivers_every_code_after_restart(database_url: str) -> None:
    telegram = FakeTelegram(limits=Limits().scaled(SPEED))
    await telegram.start()
    story = Story(telegram)
    buyers = [telegram.user(f"Buyer {n}") for n in range(BUYERS)]
    for buyer in buyers:
        buyer.started = True  # they opened the bot long ago
        story.group.members.add(buyer.id)
    env = bot_env(telegram, database_url, story.admin.id, SPEED)
    bot = await start_bot(env, telegram)
    try:
        await story.open_community()
        post = await story.post("/drop min=1\nEggs | 12")
        queries = [await telegram.click(buyer, post, "#1") for buyer in buyers]
        await telegram.wait_for(lambda: all(q.answered for q in queries), timeout=60)

        await story.ask(story.leader, "/close 1", "formed")
        ids = [b.id for b in buyers]
        await telegram.wait_for(lambda: len(codes_by_buyer(telegram, ids)) >= 30, timeout=30)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        before = len(codes_by_buyer(telegram, ids))
        assert before < BUYERS  # it really died in the middle

        bot = await start_bot(env, telegram)
        await telegram.wait_for(lambda: len(codes_by_buyer(telegram, ids)) == BUYERS, timeout=60)
        await telegram.idle(quiet=1.0)
        codes = codes_by_buyer(telegram, ids)
        assert all(len(set(found)) == 1 for found in codes.values())  # a repeat is the same code
        repeats = sum(len(found) - 1 for found in codes.values())
        assert repeats <= CONCURRENCY
        assert len({found[0] for found in codes.values()}) == BUYERS  # everyone has their own

        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 30) == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await telegram.stop()
