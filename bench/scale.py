"""scale: what a second (and third) instance buys, on PostgreSQL and Redis in webhook mode.

For 1 and then 3 instances (`python -m bot` processes with WEBHOOK_URL, REDIS_URL, one fresh
PostgreSQL database), the local Telegram-like server posts updates to them in turn, as a load
balancer would, with Telegram's limits `--scale` times faster:

- join burst: N residents across the communities press Join at once; joins/s is N over the time
  from the first press to the last answer;
- send rate: the item then closes for all of them at one deadline; msgs/s is measured at the
  server over the pickup codes and group notices, with the 429s the instances caused together.

The last line is:
    scale: 1 instance <j> joins/s, <s> msgs/s; 3 instances <j> joins/s, <s> msgs/s (<n429> 429s)

Usage: python bench/scale.py [--buyers 1500] [--communities 15] [--scale 5]
       [--database postgresql+asyncpg://postgres@127.0.0.1:5432/tuanbot_scale]
       [--redis redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import asyncpg  # type: ignore[import-untyped]
from redis.asyncio import Redis
from send_rate import close_soon, closing_times, prepare  # type: ignore[import-not-found]
from sqlalchemy.engine import make_url

from bot.migrate import upgrade
from tests.fakegram import FakeTelegram, Limits
from tests.instances import bot_env, free_port, start_webhook_instance

SECRET = "bench-scale"


async def fresh_database(url: str) -> None:
    parsed = make_url(url)
    admin = await asyncpg.connect(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, database="postgres"
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, url)


async def measure(
    instances: int, buyers: int, groups: int, scale: float, database: str, redis: str
) -> tuple[float, float, int]:
    await fresh_database(database)
    client = Redis.from_url(redis)
    await client.flushdb()
    await client.aclose()
    telegram = FakeTelegram(limits=Limits().scaled(scale))
    await telegram.start()
    people = await prepare(telegram, database, buyers, groups, join=False)
    ports = [free_port() for _ in range(instances)]
    telegram.balance(*(f"http://127.0.0.1:{port}/hook" for port in ports))
    env = bot_env(
        telegram,
        database,
        1,
        scale,
        REDIS_URL=redis,
        WEBHOOK_URL="https://bench.example/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
    )
    processes = [await start_webhook_instance(env, port) for port in ports]
    try:
        groups_ids = sorted({chat_id for chat_id in telegram.chats if chat_id < 0})

        def posts() -> dict[int, object]:
            found = {}
            for chat_id in groups_ids:
                for message in telegram.sent(chat_id):
                    if message.buttons:
                        found[chat_id] = message
            return found

        await telegram.wait_for(lambda: len(posts()) == len(groups_ids), timeout=120)
        board = posts()
        began = time.monotonic()
        queries = []
        for n, person in enumerate(people):
            user = telegram.users[person]
            queries.append(await telegram.click(user, board[groups_ids[n % groups]], "#1"))  # type: ignore[arg-type]
        await telegram.wait_for(lambda: all(q.answered for q in queries), timeout=600)
        join_rate = buyers / (time.monotonic() - began)

        await close_soon(database, 2)
        expected = buyers + groups

        await telegram.wait_for(lambda: len(closing_times(telegram)) >= expected, timeout=600)
        times = sorted(closing_times(telegram))
        send_rate = (len(times) - 1) / (times[-1] - times[0])
        too_many = sum(1 for r in telegram.requests if r.status == 429)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            await process.wait()
        await telegram.stop()
    print(
        f"{instances} instance(s): {buyers} joins in {buyers / join_rate:.1f} s = "
        f"{join_rate:.0f} joins/s; {expected} closing messages at {send_rate:.0f} msgs/s "
        f"(limit {30 * scale:.0f}/s), {too_many} 429s",
        flush=True,
    )
    return join_rate, send_rate, too_many


async def run(args: argparse.Namespace) -> None:
    one = await measure(1, args.buyers, args.communities, args.scale, args.database, args.redis)
    three = await measure(3, args.buyers, args.communities, args.scale, args.database, args.redis)
    print(
        f"scale: 1 instance {one[0]:.0f} joins/s, {one[1]:.0f} msgs/s; "
        f"3 instances {three[0]:.0f} joins/s, {three[1]:.0f} msgs/s ({one[2] + three[2]} 429s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=1500)
    parser.add_argument("--communities", type=int, default=15)
    parser.add_argument("--scale", type=float, default=5)
    parser.add_argument(
        "--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/tuanbot_scale"
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
