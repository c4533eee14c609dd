"""send_rate: how close to Telegram's limits the bot sends when a deadline forms thousands of buys.

A local Telegram-like Bot API server runs here, with Telegram's limits (30 messages a second
overall, 1 a second per private chat, 20 a minute per group) `--scale` times faster so the run
takes seconds. The bot runs as its own process (`python -m bot`) with SEND_RATE_* set to the same
scaled limits. N buyers (default 3,000 across 30 communities) have joined an item; the deadline
falls a few seconds after the bot starts: every buyer gets a private pickup code and every group
hears which items formed. The busiest limit is the global one.

The bot never lets Telegram count more than a window allows: a message holds its place in the
window from when it is sent until `span` after Telegram answered. So each message's round trip
(about 5 ms against this local server) costs its share of the window: at --scale 10 (100 ms
windows) that is about 5 %, at the default --scale 5 about 2.5 %, at Telegram's real pace (1 s
windows) its real round trip's share.

Measured at the server, over the closing messages: messages per second from the first to the
last, that rate as a share of the global limit, how many 429s the bot caused, how many buyers got
no code (lost) and how many got it more than once (duplicates). The last line is:
    send_rate: <msgs/s> msgs/s, <pct>% of limit, <n429> 429s, <lost> lost, <dup> duplicates

Usage: python bench/send_rate.py [--buyers 3000] [--communities 30] [--scale 5]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update

from bench.bot_process import bot_env
from bot.db import create_engine, create_session_factory
from bot.migrate import upgrade
from bot.services.community import communities
from bot.services.community.people import Actor
from bot.services.kernel.sql import upsert
from bot.services.ordering import drops, joins
from bot.services.ordering.drop_format import parse_drop
from models import GroupBuy, GroupBuyState, User
from tests.fakegram import FakeTelegram, Limits

ADMIN = Actor(user_id=1, is_admin=True)


async def prepare(
    telegram: FakeTelegram, url: str, buyers: int, groups: int, *, join: bool = True
) -> list[int]:
    """Communities, buyers (who joined the one item, unless `join` is False), the drop published
    with a deadline an hour ahead. Returns the buyers; buyer n lives in community n % groups."""
    engine = create_engine(url)
    factory = create_session_factory(engine)
    now = datetime.now(UTC)
    people = []
    for n in range(buyers):
        person = telegram.user(f"Buyer {n}")
        person.started = True
        people.append(person)
    async with factory() as session:
        chats = []
        for n in range(groups):
            chat = telegram.group(f"Community {n}")
            chat.bot_status = "member"
            chats.append(chat)
            await communities.register(
                session, ADMIN, chat.id, chat.title or "", "en", "Asia/Shanghai", now
            )
        rows = [
            {"id": p.id, "first_name": p.first_name, "started_at": now, "created_at": now}
            for p in people
        ]
        for start in range(0, len(rows), 500):
            await session.execute(upsert(session, User).values(rows[start : start + 500]))
        await session.commit()
        text = "/drop deadline=+1h min=1\nEggs | 12 | box"
        preview = await drops.create_drop(
            session, ADMIN, parse_drop(text), text, ZoneInfo("Asia/Shanghai"), now
        )
        await drops.publish(session, ADMIN, preview.drop_id, None, now)
        ids = {
            c.chat_id: c.id
            for c in await communities.overview(session, ADMIN, now)
            for c in [c.community]
        }
        for n, person in enumerate(people):
            telegram.chats[chats[n % groups].id].members.add(person.id)
            if join:
                await joins.join(session, ids[chats[n % groups].id], person.id, now, number=1)
    engine_done = engine
    await engine_done.dispose()
    return [p.id for p in people]


def closing_times(telegram: FakeTelegram) -> list[float]:
    """When the server accepted each closing message: pickup codes and groups' "Closed"."""
    return [
        r.at
        for r in telegram.requests
        if r.method == "sendMessage"
        and r.status == 200
        and re.search(r"Your pickup code|Closed", str(r.params.get("text", "")))
    ]


async def close_soon(url: str, seconds: float) -> None:
    engine = create_engine(url)
    async with create_session_factory(engine)() as session:
        await session.execute(
            update(GroupBuy)
            .where(GroupBuy.state == GroupBuyState.OPEN)
            .values(deadline=datetime.now(UTC) + timedelta(seconds=seconds))
        )
        await session.commit()
    await engine.dispose()


async def run(buyers: int, groups: int, scale: float, workdir: Path) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    telegram = FakeTelegram(limits=Limits().scaled(scale))
    await telegram.start()
    people = await prepare(telegram, url, buyers, groups)
    await close_soon(url, 6)
    env = bot_env(
        telegram.url,
        url,
        ADMIN.user_id,
        SEND_RATE_GLOBAL=str(30 * scale),
        SEND_RATE_CHAT=str(1 * scale),
        SEND_RATE_GROUP=str(20 * scale),
    )
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    expected = buyers + groups  # a code for each buyer, a "closed" message in each group
    budget = 30 + 3 * expected / (30 * scale)

    try:
        await telegram.wait_for(lambda: len(closing_times(telegram)) >= expected, timeout=budget)
        await telegram.idle(quiet=2.0, timeout=60)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await bot.communicate()
        await telegram.stop()
    times = sorted(closing_times(telegram))
    rate = (len(times) - 1) / (times[-1] - times[0])
    limit = 30 * scale
    received: dict[int, int] = {}
    for person in people:
        received[person] = sum("Your pickup code" in m.text for m in telegram.sent(person))
    lost = sum(1 for n in received.values() if n == 0)
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    too_many = telegram.count("sendMessage", 429)
    print(
        f"{buyers} buyers in {groups} communities; Telegram's limits ×{scale:g}: "
        f"{limit:.0f} msgs/s overall, {scale:g}/s per private chat, {20 * scale:.0f}/min per group"
    )
    print(f"closing messages: {len(times)} in {times[-1] - times[0]:.2f} s")
    if err.strip():
        print("bot stderr (last lines):", *err.decode().strip().splitlines()[-3:], sep="\n  ")
    print(
        f"send_rate: {rate:.0f} msgs/s, {100 * rate / limit:.1f}% of limit, {too_many} 429s, "
        f"{lost} lost, {duplicates} duplicates"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=3000)
    parser.add_argument("--communities", type=int, default=30)
    parser.add_argument("--scale", type=float, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run(args.buyers, args.communities, args.scale, Path(workdir)))


if __name__ == "__main__":
    main()
