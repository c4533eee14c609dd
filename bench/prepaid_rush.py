"""prepaid_rush: Telegram's 10-second pre-checkout deadline, met while a rush of joins goes on.

The bot runs as its own process (`python -m bot`), polling a local Telegram-like server with
Telegram's limits, on a fresh SQLite file (or `--database`), with payments in advance set up
(`PAYMENT_PROVIDER_TOKEN`). As users do it, through the chat:

1. the admin publishes a prepaid drop: item 1 (plenty of stock), item 2 with a stock of 50;
2. P residents (default 50) join item 1 and wait for their invoices;
3. N other residents (default 300) press Join on item 2 at the same moment, and while those
   presses are handled the P residents press Pay, spread through the burst: Telegram asks the bot
   (pre-checkout) and fails the payment if it has no answer within 10 seconds. Each pre-checkout
   is timed from the moment it reaches the server to the bot's answer; each press likewise.

The last line is:
    prepaid_rush: <N> presses p99 <a> s; <P> pre-checkouts p50 <b> s p99 <c> s max <d> s,
                  <ok> answered ok, <paid> paid members
(on one line).

Usage: python bench/prepaid_rush.py [--presses 300] [--payers 50]
                                    [--database postgresql+asyncpg://…/tuanbot_prepaid]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.bot_process import bot_env, database_for, show_crash
from bench.rush import add_residents, percentile
from tests.fakegram import FakeTelegram, Limits, Message


async def paid_members(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT COUNT(*) FROM orders WHERE state = 'joined' AND paid_at IS NOT NULL")
        )
    await engine.dispose()
    return int(count or 0)


async def run(presses: int, payers: int, url: str, workdir: Path) -> None:
    telegram = FakeTelegram(limits=Limits())
    answered: dict[str, float] = {}  # callback or pre-checkout query id -> when answered

    def timed(method: Any, key: str) -> Any:
        async def answer(params: dict[str, Any]) -> Any:
            answered.setdefault(str(params.get(key)), time.monotonic())
            return await method(params)

        return answer

    telegram._m_answerCallbackQuery = timed(  # type: ignore[method-assign]
        telegram._m_answerCallbackQuery, "callback_query_id"
    )
    telegram._m_answerPreCheckoutQuery = timed(  # type: ignore[method-assign]
        telegram._m_answerPreCheckoutQuery, "pre_checkout_query_id"
    )
    await telegram.start()
    admin = telegram.user("Ada")
    env = bot_env(
        telegram.url, url, admin.id, PAYMENT_PROVIDER_TOKEN="284685063:TEST:bench-provider"
    )
    group = telegram.group("Sunny Garden", [admin])
    people = [telegram.user(f"R{n}") for n in range(presses + payers)]
    for person in people:
        person.started = True
        group.members.add(person.id)
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=env,
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await telegram.wait_for(lambda: telegram.polls > 0, timeout=60)
        await add_residents(url, people)
        await telegram.start_bot(admin)
        await telegram.add_bot(group, admin)
        await telegram.send(admin, group, "/register Sunny Garden")
        await telegram.wait_message(group, "community", timeout=30)
        await telegram.send(
            admin, admin, "/drop deadline=+2h min=1\nEggs | 12 | stock=1000\nMilk | 8 | stock=50"
        )
        preview = await telegram.wait_message(admin, "Draft drop", timeout=30)
        drop_id = re.search(r"Draft drop (\d+)", preview.text).group(1)  # type: ignore[union-attr]
        await telegram.send(admin, admin, f"/publish {drop_id}")
        post = await telegram.wait_for(
            lambda: next((m for m in telegram.sent(group) if m.buttons), None), timeout=30
        )
        # 2. The payers hold their reservations and have their invoices.
        payer_people = people[presses:]
        for person in payer_people:
            await telegram.click(person, post, "Eggs")
        invoices: list[Message] = await telegram.wait_for(
            lambda: (
                found
                if len(found := [m for p in payer_people for m in telegram.invoices(p)[:1]])
                == payers
                else None
            ),
            timeout=120,
        )
        await telegram.idle(quiet=2.0, timeout=120)

        # 3. The burst, and the payments in the middle of it.
        pressed: dict[str, float] = {}
        paying: list[asyncio.Task[Any]] = []
        every = max(1, presses // payers)

        def pay_next() -> None:
            i = len(paying)
            paying.append(asyncio.create_task(telegram.pay(payer_people[i], invoices[i])))

        for n, person in enumerate(people[:presses]):
            query = await telegram.click(person, post, "Milk")
            pressed[query.id] = time.monotonic()
            if n % every == 0 and len(paying) < payers:
                pay_next()
                await asyncio.sleep(0)  # the pre-checkout reaches the server among the presses
        while len(paying) < payers:
            pay_next()
        outcomes = await asyncio.gather(*paying)
        await telegram.wait_for(lambda: all(q in answered for q in pressed), timeout=120)
        await telegram.idle(quiet=1.0, timeout=120)
        members = await paid_members(url)
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await bot.communicate()
        await telegram.stop()
    press_waits = [answered[q] - at for q, at in pressed.items()]
    checkout_waits = [
        answered.get(q.id, float("inf")) - q.asked_at for q in telegram.pre_checkouts.values()
    ]
    ok = sum(1 for outcome in outcomes if isinstance(outcome, Message))
    print(
        f"{presses} presses: p50 {statistics.median(press_waits):.2f} s, "
        f"p99 {percentile(press_waits, 0.99):.2f} s"
    )
    print(f"{len(checkout_waits)} pre-checkouts; refused or expired: {payers - ok}")
    show_crash(err)
    print(
        f"prepaid_rush: {presses} presses p99 {percentile(press_waits, 0.99):.2f} s; "
        f"{len(checkout_waits)} pre-checkouts p50 {statistics.median(checkout_waits):.2f} s "
        f"p99 {percentile(checkout_waits, 0.99):.2f} s max {max(checkout_waits):.2f} s, "
        f"{ok} answered ok, {members} paid members"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--payers", type=int, default=50)
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = database_for(args.database, workdir, "prepaid.sqlite3")
        asyncio.run(run(args.presses, args.payers, url, Path(workdir)))


if __name__ == "__main__":
    main()
