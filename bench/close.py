"""close: a thousand items closing in the same minute, and the bot's memory as the data grows.

The bot runs as its own process (`python -m bot`), polling a local Telegram-like server, on a
fresh SQLite file (or `--database`, e.g. PostgreSQL). A drop of `--items-per-community` items
(default 20) is published to `--communities` communities (default 50): 1,000 open items. Then,
straight into the database (as months of use would leave it), `--orders` orders (default 20 per
item, 20,000) on those items, and older, picked-up orders up to `--history` in all (default
100,000), before the items' deadline (`--lead` seconds after publishing, default 60) comes:

- closed and queued: from the deadline until every item is closed, every buyer has a pickup code
  and every notice (each buyer's "closed" message, each group's) is in the outbox;
- memory: the bot's resident set size (VmRSS) once started and idle on the empty database, and
  the highest it reaches with all those orders while closing them.

The last line is:
    close: <items> items x <orders> orders closed and queued in <t> s; RSS idle <i> MB,
           <r> MB with <o> orders
(on one line).

Usage: python bench/close.py [--communities 50] [--items-per-community 20] [--orders 20]
                             [--history 100000] [--lead 60] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.bot_process import bot_env, database_for, rss_mb, show_crash
from tests.fakegram import FakeTelegram, Limits


async def scalar(engine: AsyncEngine, sql: str, **params: object) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text(sql), params) or 0)


async def add_orders(engine: AsyncEngine, per_item: int, history: int) -> int:
    """`per_item` buyers on every open item (the same residents in each community), and older
    picked-up orders on closed items of the past, `history` orders in all. Returns the count."""
    now = datetime.now(UTC).replace(tzinfo=None)
    async with engine.begin() as connection:
        communities = (await connection.execute(text("SELECT id FROM communities"))).all()
        residents = [5_000_000 + n for n in range(per_item)]
        await connection.execute(
            text(
                "INSERT INTO users (id, first_name, tg_language, started_at, created_at) "
                "VALUES (:id, :name, 'en', :now, :now)"
            ),
            [{"id": user, "name": f"Buyer {user}", "now": now} for user in residents],
        )
        open_items = (
            await connection.execute(
                text("SELECT id, unit_price FROM group_buys WHERE state = 'open' ORDER BY id")
            )
        ).all()
        rows = [
            {
                "gb": gb_id,
                "user": user,
                "price": price,
                "seq": seq,
                "state": "joined",
                "now": now,
            }
            for gb_id, price in open_items
            for seq, user in enumerate(residents, start=1)
        ]
        # The past: closed items whose orders were picked up (a copy of the open ones, closed).
        past = max(0, history - len(rows))
        days = -(-past // max(1, len(rows)))
        # Each past day's items hang off that day's own posts (ids shifted past today's), as
        # they would: a post shows only its own drop's items.
        shift = await connection.scalar(text("SELECT MAX(id) FROM drop_posts"))
        drops_shift = await connection.scalar(text("SELECT MAX(id) FROM drops"))
        for day in range(days):
            then = now - timedelta(days=day + 2)
            offset = shift * (day + 1)
            drop_offset = drops_shift * (day + 1)
            await connection.execute(
                text(
                    "INSERT INTO drops (id, created_by, created_at, state, deadline_spec, "
                    "pickup_spec, published_at, source_text) SELECT id + :offset, created_by, "
                    ":then, state, deadline_spec, pickup_spec, :then, source_text FROM drops "
                    "WHERE id <= :shift"
                ),
                {"offset": drop_offset, "then": then, "shift": drops_shift},
            )
            await connection.execute(
                text(
                    "INSERT INTO drop_posts (id, drop_id, community_id, state, post_at, "
                    "posted_at) SELECT id + :offset, drop_id + :drop_offset, community_id, "
                    "'posted', :then, :then FROM drop_posts WHERE id <= :shift"
                ),
                {"offset": offset, "drop_offset": drop_offset, "then": then, "shift": shift},
            )
            await connection.execute(
                text(
                    "INSERT INTO group_buys (drop_post_id, drop_item_id, community_id, number, "
                    "state, unit_price, min_members, purchase_limit, members, last_seq, "
                    "deadline, pickup_date, closed_at, arrived_at) "
                    "SELECT drop_post_id + :offset, drop_item_id, community_id, number, "
                    "'arrived', unit_price, min_members, purchase_limit, :n, :n, :then, :day, "
                    ":then, :then FROM group_buys WHERE state = 'open'"
                ),
                {
                    "offset": offset,
                    "n": per_item,
                    "then": then,
                    "day": (now - timedelta(days=day + 1)).date(),
                },
            )
        closed = (
            await connection.execute(
                text("SELECT id, unit_price FROM group_buys WHERE state = 'arrived' ORDER BY id")
            )
        ).all()
        rows += [
            {
                "gb": gb_id,
                "user": user,
                "price": price,
                "seq": seq,
                "state": "picked_up",
                "now": now,
            }
            for gb_id, price in closed
            for seq, user in enumerate(residents, start=1)
        ][:past]
        for start in range(0, len(rows), 5000):
            await connection.execute(
                text(
                    "INSERT INTO orders (group_buy_id, user_id, quantity, short_quantity, "
                    "unit_price, seq, state, joined_at, updated_at) "
                    "VALUES (:gb, :user, 1, 0, :price, :seq, :state, :now, :now)"
                ),
                rows[start : start + 5000],
            )
        await connection.execute(
            text("UPDATE group_buys SET members = :n, last_seq = :n WHERE state = 'open'"),
            {"n": per_item},
        )
        assert communities
    return len(rows)


async def run(
    groups: int, items: int, per_item: int, history: int, lead: int, url: str, workdir: Path
) -> None:
    telegram = FakeTelegram(limits=Limits())
    await telegram.start()
    admin = telegram.user("Ada")
    env = bot_env(telegram.url, url, admin.id)
    chats = [telegram.group(f"Community {n}", [admin]) for n in range(groups)]
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    engine = create_async_engine(url)
    try:
        await telegram.wait_for(lambda: telegram.polls > 0, timeout=60)
        await telegram.start_bot(admin)
        for chat in chats:
            await telegram.add_bot(chat, admin)
            await telegram.send(admin, chat, f"/register {chat.title}")
        await telegram.wait_for(
            lambda: all(any("community" in m.text for m in telegram.sent(c)) for c in chats),
            timeout=120,
        )
        lines = "\n".join(f"Item {n} | {n + 1}" for n in range(items))
        # The deadline is armed by the bot itself when the drop goes out, as in real use; it
        # leaves time to load the orders first.
        await telegram.send(admin, admin, f"/drop deadline=+{lead}s min=1\n{lines}")
        preview = await telegram.wait_message(admin, "Draft drop", timeout=30)
        drop_id = re.search(r"Draft drop (\d+)", preview.text).group(1)  # type: ignore[union-attr]
        await telegram.send(admin, admin, f"/publish {drop_id}")
        await telegram.wait_for(
            lambda: all(any(m.buttons for m in telegram.sent(c)) for c in chats), timeout=120
        )
        await telegram.idle(quiet=3.0, timeout=120)
        idle = rss_mb(bot.pid)

        total = await add_orders(engine, per_item, history)
        open_items = await scalar(engine, "SELECT COUNT(*) FROM group_buys WHERE state = 'open'")
        async with engine.connect() as connection:
            latest = await connection.scalar(
                text("SELECT MAX(deadline) FROM group_buys WHERE state = 'open'")
            )
        deadline = latest if isinstance(latest, datetime) else datetime.fromisoformat(str(latest))
        deadline = deadline.replace(tzinfo=UTC)
        if datetime.now(UTC) > deadline:
            raise SystemExit(f"loading took longer than --lead {lead}s: give it more")
        expected_notices = groups + groups * per_item  # each group's, each buyer's
        peak = rss_mb(bot.pid)
        done_at = None
        give_up = time.monotonic() + lead + 120
        while time.monotonic() < give_up:
            peak = max(peak, rss_mb(bot.pid))
            still_open = await scalar(
                engine, "SELECT COUNT(*) FROM group_buys WHERE state = 'open'"
            )
            queued = await scalar(
                engine, "SELECT COUNT(*) FROM outbox WHERE kind IN ('closed', 'closed_group')"
            )
            if not still_open and queued >= expected_notices:
                done_at = datetime.now(UTC)
                break
            await asyncio.sleep(0.05)
        coded = await scalar(
            engine,
            "SELECT COUNT(*) FROM orders WHERE state = 'confirmed' AND pickup_code_id IS NOT NULL",
        )
        for _ in range(20):  # a few more seconds: what the sender does with it counts too
            peak = max(peak, rss_mb(bot.pid))
            await asyncio.sleep(0.25)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await bot.communicate()
        await engine.dispose()
        await telegram.stop()
    took = (done_at - deadline).total_seconds() if done_at else float("inf")
    print(
        f"{open_items} items, {open_items * per_item} open orders ({coded} coded); {total} in all"
    )
    show_crash(err)
    print(
        f"close: {open_items} items x {per_item} orders closed and queued in {took:.2f} s; "
        f"RSS idle {idle:.0f} MB, {peak:.0f} MB with {total} orders"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--items-per-community", type=int, default=20)
    parser.add_argument("--orders", type=int, default=20, help="orders per item")
    parser.add_argument("--history", type=int, default=100_000, help="orders in all")
    parser.add_argument(
        "--lead", type=int, default=60, help="seconds from publishing to the deadline"
    )
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = database_for(args.database, workdir, "close.sqlite3")
        asyncio.run(
            run(
                args.communities,
                args.items_per_community,
                args.orders,
                args.history,
                args.lead,
                url,
                Path(workdir),
            )
        )


if __name__ == "__main__":
    main()
