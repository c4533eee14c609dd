"""join_burst: how fast joins go through the whole bot, against the database's own speed.

End to end: N Join-button presses (callback-query updates; default 2,000 across 20 communities)
go through the real Dispatcher, in-process, on a fresh SQLite database: aiogram parses each update,
the middlewares load who and where, the join service runs its transaction, and the answer goes
back through aiogram's session into the local Bot API server's validation (no sockets involved).
Up to 100 updates are in flight at once, as after one long poll. Residents are already known to
the bot (as after their first message).

Raw SQL: the same join statements (`bot.services.ordering.joins` and `.stock`: lock, order
upsert, stock, member count) run directly on one connection, one transaction per join, for the same number of joins.

Join service (printed before the last line, for where the time goes): the join service's unit
of work alone, as a handler calls it, each join the effect of an update stored in the inbox (its
mark written in the same transaction), one at a time: the end-to-end figure less aiogram, the
middlewares and the answer; the raw figure plus SQLAlchemy's session and the update's mark.

After a warm-up, the three alternate for --rounds rounds (each on a fresh item); medians count.
The last line is:
    join_burst: <joins/s> joins/s end-to-end, <raw/s> raw SQL joins/s, ratio <x.xx>

Usage: python bench/join_burst.py [--joins 2000] [--communities 20] [--in-flight 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiogram.types import Update
from sqlalchemy import func, select

from bot.app import TuanBot
from bot.config import Settings
from bot.migrate import upgrade
from bot.sandbox.telegram import CallbackQuery
from bot.services.community import communities
from bot.services.community.people import Actor
from bot.services.kernel import inbox
from bot.services.kernel.sql import upsert
from bot.services.kernel.uow import handling
from bot.services.ordering import drops, joins, stock
from bot.services.ordering.drop_format import parse_drop
from models import Community, GroupBuy, Order, User
from tests.fakegram import TOKEN, FakeTelegram, Limits
from tests.fakegram.local import LocalSession

ADMIN = Actor(user_id=1, is_admin=True)
FIRST_USER = 100_000
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Bench:
    def __init__(self, app: TuanBot, telegram: FakeTelegram, joins_wanted: int) -> None:
        self.app = app
        self.telegram = telegram
        self.joins_wanted = joins_wanted
        self.next_update = 1

    async def prepare(self, groups: int) -> None:
        """Communities and residents (known to the bot already, as after a first message)."""
        now = datetime.now(UTC)
        async with self.app.session_factory() as session:
            for n in range(groups):
                chat = self.telegram.group(f"Community {n}")
                chat.bot_status = "member"
                await communities.register(
                    session, ADMIN, chat.id, chat.title or "", "en", "Asia/Shanghai", now
                )
            rows = [
                {
                    "id": FIRST_USER + n,
                    "first_name": f"Resident {n}",
                    "started_at": now,
                    "created_at": now,
                }
                for n in range(self.joins_wanted)
            ]
            for start in range(0, len(rows), 500):
                await session.execute(upsert(session, User).values(rows[start : start + 500]))
            await session.commit()

    async def fresh_item(self) -> dict[int, tuple[int, int]]:
        """Publish a one-item drop; returns chat id → (community id, open group-buy id)."""
        now = datetime.now(UTC)
        text = "/drop deadline=+6h\nEggs | 12 | box | limit=1 | stock=100000"
        async with self.app.session_factory() as session:
            preview = await drops.create_drop(session, ADMIN, parse_drop(text), text, SHANGHAI, now)
            await drops.publish(session, ADMIN, preview.drop_id, None, now)
            rows = (
                await session.execute(
                    select(Community.chat_id, Community.id, func.max(GroupBuy.id))
                    .join(GroupBuy, GroupBuy.community_id == Community.id)
                    .group_by(Community.chat_id, Community.id)
                )
            ).all()
        return {chat_id: (community_id, gb_id) for chat_id, community_id, gb_id in rows}

    def press(self, user_n: int, chat_id: int, group_buy_id: int) -> dict[str, Any]:
        update_id = self.next_update
        self.next_update += 1
        query_id = str(update_id)
        self.telegram.callbacks[query_id] = CallbackQuery(query_id, self.telegram.bot, None, "")  # type: ignore[arg-type]
        return {
            "update_id": update_id,
            "callback_query": {
                "id": query_id,
                "from": {
                    "id": FIRST_USER + user_n,
                    "is_bot": False,
                    "first_name": f"Resident {user_n}",
                },
                "chat_instance": str(chat_id),
                "data": f"j:{group_buy_id}",
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": chat_id, "type": "supergroup", "title": "Community"},
                    "from": {"id": 1, "is_bot": True, "first_name": "Tuan Bot"},
                    "text": "Group-buy",
                },
            },
        }

    async def end_to_end(self, count: int, in_flight: int) -> tuple[float, list[float]]:
        buys = await self.fresh_item()
        chats = sorted(buys)
        raw_updates = [
            self.press(n, chats[n % len(chats)], buys[chats[n % len(chats)]][1])
            for n in range(count)
        ]
        ids = [raw["callback_query"]["id"] for raw in raw_updates]
        slots = asyncio.Semaphore(in_flight)
        latencies: list[float] = []

        async def one(raw: dict[str, Any]) -> None:
            async with slots:
                started = time.perf_counter()
                update = Update.model_validate(raw, context={"bot": self.app.bot})
                await self.app.dispatcher.feed_update(self.app.bot, update)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(raw) for raw in raw_updates))
        elapsed = time.perf_counter() - started
        answers = [self.telegram.callbacks[i].answer_text or "" for i in ids]
        joined = sum("Joined" in a for a in answers)
        if joined != count:
            wrong = [a for a in answers if "Joined" not in a][:3]
            raise SystemExit(f"join_burst: only {joined} of {count} presses joined: {wrong}")
        return elapsed, latencies

    async def service(self, count: int) -> float:
        """The join service alone, as a handler calls it: one unit of work a join, each the effect
        of an update stored in the inbox (so the update's mark is written with it), one at a
        time, without aiogram, the middlewares or the answer."""
        buys = await self.fresh_item()
        chats = sorted(buys)
        now = datetime.now(UTC)
        first = self.next_update
        self.next_update += count
        async with self.app.session_factory() as session:
            await inbox.record(session, [(first + n, {}) for n in range(count)], now)
        started = time.perf_counter()
        for n in range(count):
            community_id, group_buy_id = buys[chats[n % len(chats)]]
            async with self.app.session_factory() as session:
                with handling(first + n):
                    await joins.join_again_or_first(
                        session, community_id, FIRST_USER + n, now, group_buy_id=group_buy_id
                    )
        return time.perf_counter() - started

    async def raw_sql(self, count: int) -> float:
        """The same statements the join service runs, straight on one connection."""
        buys = await self.fresh_item()
        chats = sorted(buys)
        dialect = self.app.engine.dialect.name
        now = datetime.now(UTC)
        started = time.perf_counter()
        async with self.app.engine.connect() as connection:
            for n in range(count):
                community_id, group_buy_id = buys[chats[n % len(chats)]]
                async with connection.begin():
                    locked = (
                        await connection.execute(
                            joins.lock_open(True),
                            {
                                "p_community_id": community_id,
                                "p_now": now,
                                "p_group_buy_id": group_buy_id,
                            },
                        )
                    ).one()
                    gb_id, item_id, limit = locked.id, locked.drop_item_id, locked.purchase_limit
                    price, last_seq = locked.unit_price, locked.last_seq
                    stored = (
                        await connection.execute(
                            joins.add_to_order(dialect, limit is not None),
                            {
                                "p_group_buy_id": gb_id,
                                "p_user_id": FIRST_USER + n,
                                "p_quantity": 1,
                                "p_price": price,
                                "p_seq": last_seq + 1,
                                "p_now": now,
                                "p_limit": limit,
                            },
                        )
                    ).one()
                    await connection.execute(
                        stock.take_stock(), {"p_item_id": item_id, "p_quantity": 1}
                    )
                    if stored.seq == last_seq + 1:
                        await connection.execute(
                            joins.count_member(), {"p_group_buy_id": gb_id, "p_seq": stored.seq}
                        )
        elapsed = time.perf_counter() - started
        async with self.app.session_factory() as session:
            stored_joins = await session.scalar(
                select(func.count())
                .select_from(Order)
                .where(Order.group_buy_id.in_([g for _, g in buys.values()]))
            )
        if stored_joins != count:
            raise SystemExit(f"join_burst: raw SQL stored {stored_joins} of {count} joins")
        return elapsed


async def run(joins_wanted: int, groups: int, in_flight: int, rounds: int, workdir: Path) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    await asyncio.to_thread(upgrade, url)
    telegram = FakeTelegram(limits=Limits(enforced=False))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        bot_token=TOKEN,
        telegram_api_url="http://in-process.invalid",
        database_url=url,
        admin_ids=frozenset({ADMIN.user_id}),
        default_language="en",
        send_rate_global=10_000,  # callback answers are not rate limited anyway
        send_rate_chat=10_000,
        send_rate_group=100_000,
    )
    app = TuanBot(settings, api_session=LocalSession(telegram))
    bench = Bench(app, telegram, joins_wanted)
    e2e_rates, service_rates, raw_rates, latencies = [], [], [], []
    try:
        await bench.prepare(groups)
        await bench.end_to_end(min(200, joins_wanted), in_flight)  # warm-up: caches, compiled SQL
        await bench.service(min(200, joins_wanted))
        await bench.raw_sql(min(200, joins_wanted))
        for _ in range(rounds):
            seconds, latency = await bench.end_to_end(joins_wanted, in_flight)
            e2e_rates.append(joins_wanted / seconds)
            latencies += latency
            service_rates.append(joins_wanted / await bench.service(joins_wanted))
            raw_rates.append(joins_wanted / await bench.raw_sql(joins_wanted))
    finally:
        await app.bot.session.close()
        await app.engine.dispose()
    e2e_rate, raw_rate = statistics.median(e2e_rates), statistics.median(raw_rates)
    latencies.sort()
    print(
        f"joins: {joins_wanted} a round across {groups} communities, {in_flight} in flight, "
        f"SQLite (WAL), {rounds} rounds after a warm-up"
    )
    print("end-to-end joins/s by round: " + ", ".join(f"{r:.0f}" for r in e2e_rates))
    print("join service joins/s:        " + ", ".join(f"{r:.0f}" for r in service_rates))
    print("raw SQL joins/s by round:    " + ", ".join(f"{r:.0f}" for r in raw_rates))
    print(
        f"per update (waiting in line included): p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms"
    )
    print(
        f"join_burst: {e2e_rate:.0f} joins/s end-to-end, {raw_rate:.0f} raw SQL joins/s, ratio {e2e_rate / raw_rate:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--joins", type=int, default=2000)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(run(args.joins, args.communities, args.in_flight, args.rounds, Path(workdir)))


if __name__ == "__main__":
    main()
