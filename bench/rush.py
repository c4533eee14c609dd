"""rush: the 8 pm rush as residents live it, against the bot running as its own process.

A local Telegram-like Bot API server (tests/fakegram) runs here with Telegram's real limits (30
messages a second overall, 1 a second per private chat, 20 a minute per group); the bot polls it
(`python -m bot`) on a fresh SQLite file (or `--database`, e.g. PostgreSQL). Everything is done
as users do it, through the chat, so the same script measures any version of the bot:

1. the admin registers the group and publishes a drop: item 1 with a stock of 50, item 2 open;
2. N residents (default 300) press Join on item 1 at the same moment: each press is timed from
   the moment it reaches the server to the moment the bot answers it (Telegram's spinner);
   afterwards exactly 50 must have joined (nothing oversold);
3. M residents (default 60; the last 10 of them never opened a private chat with the bot) type
   `/join 2` in the group, two a second, as a 接龙 fills up:
   counted are the new messages the bot posts in the group from the first typed join until all
   are confirmed (edits of existing messages do not bury the chat, new messages do), and for each
   resident the time until they were told (privately, or in the group naming them);
4. right after the last typed join a resident asks `/today` in the group: the time until it is
   answered (not counted among the group messages above).

The last line is:
    rush: <N> presses p50 <a> s p99 <b> s; <M> typed joins -> <k> group messages, all
          confirmed in <c> s; /today answered in <d> s
(on one line). `<c>` is the longest any resident waited for their confirmation.

Usage: python bench/rush.py [--presses 300] [--typed 60] [--unstarted 10]
                           [--database postgresql+asyncpg://postgres@127.0.0.1:5432/tuanbot_rush]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.bot_process import bot_env, cpu_seconds, database_for, rss_mb, show_crash
from tests.fakegram import FakeTelegram, FakeUser, Limits


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def add_residents(url: str, people: list[FakeUser]) -> None:
    """Residents who opened the private chat with the bot long ago, with the names and language
    Telegram shows (straight into the users table, whose shape every version of the bot shares),
    so the rush is only the rush: nobody's profile needs saving."""
    engine = create_async_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, first_name, tg_language, started_at, created_at) "
                "VALUES (:id, :name, :language, :now, :now)"
            ),
            [
                {"id": p.id, "name": p.first_name, "language": p.language_code, "now": now}
                for p in people
            ],
        )
    await engine.dispose()


async def joined_quantity(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        total = await connection.scalar(
            text(
                "SELECT COALESCE(SUM(o.quantity), 0) FROM orders o "
                "JOIN group_buys g ON g.id = o.group_buy_id WHERE g.number = 1 "
                "AND o.state = 'joined'"
            )
        )
    await engine.dispose()
    return int(total or 0)


async def run(presses: int, typed: int, unstarted: int, url: str, workdir: Path) -> None:
    telegram = FakeTelegram(limits=Limits())
    answered: dict[str, float] = {}  # callback query id -> when the bot answered it
    answer = telegram._m_answerCallbackQuery  # timed from outside: any version of the bot

    async def timed_answer(params: dict[str, Any]) -> bool:
        answered.setdefault(str(params.get("callback_query_id")), time.monotonic())
        return await answer(params)

    telegram._m_answerCallbackQuery = timed_answer  # type: ignore[method-assign]
    written: dict[tuple[int, int], float] = {}  # (chat, message id) -> when the bot sent it
    send = telegram._m_sendMessage

    async def timed_send(params: dict[str, Any]) -> dict[str, Any]:
        message = await send(params)
        written[(message["chat"]["id"], message["message_id"])] = time.monotonic()
        return message

    telegram._m_sendMessage = timed_send  # type: ignore[method-assign]
    await telegram.start()
    admin = telegram.user("Ada")
    env = bot_env(telegram.url, url, admin.id)
    group = telegram.group("Sunny Garden", [admin])
    people = [telegram.user(f"R{n}") for n in range(presses + typed + 1)]
    # The last `unstarted` of those who type never opened a private chat with the bot.
    strangers = people[presses + typed - unstarted : presses + typed]
    for person in people:
        person.started = person not in strangers
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
        await add_residents(url, [person for person in people if person.started])
        await telegram.start_bot(admin)
        await telegram.add_bot(group, admin)
        await telegram.send(admin, group, "/register Sunny Garden")
        await telegram.wait_message(group, "community", timeout=30)
        await telegram.send(
            admin, admin, "/drop deadline=+2h min=1\nEggs | 12 | stock=50\nMilk | 8 | min=5"
        )
        preview = await telegram.wait_message(admin, "Draft drop", timeout=30)
        drop_id = re.search(r"Draft drop (\d+)", preview.text).group(1)  # type: ignore[union-attr]
        await telegram.send(admin, admin, f"/publish {drop_id}")
        post = await telegram.wait_for(
            lambda: next((m for m in telegram.sent(group) if m.buttons), None), timeout=30
        )
        await telegram.idle(quiet=2.0, timeout=60)
        idle_rss = rss_mb(bot.pid)

        # 2. The burst of presses.
        queries = []
        pressed: dict[str, float] = {}
        cpu_before, burst_start = cpu_seconds(bot.pid), time.monotonic()
        for person in people[:presses]:
            query = await telegram.click(person, post, "Eggs")
            pressed[query.id] = time.monotonic()
            queries.append(query)
        await telegram.wait_for(lambda: len(answered) >= presses, timeout=120)
        waits = [answered[q.id] - pressed[q.id] for q in queries]
        burst_cpu = cpu_seconds(bot.pid) - cpu_before
        burst_wall = max(answered.values()) - burst_start
        await telegram.idle(quiet=1.0, timeout=120)
        sold = await joined_quantity(url)

        # 3. Typed joins, two a second.
        before = {m.message_id for m in telegram.history.get(group.id, [])}
        typed_at: dict[int, tuple[float, int]] = {}
        for person in people[presses : presses + typed]:
            said = await telegram.send(person, group, "/join 2")
            typed_at[person.id] = (time.monotonic(), said.message_id)
            await asyncio.sleep(0.5)

        def told_at(person_id: int) -> float | None:
            """When the bot first told this resident about their typed join."""
            at, said_id = typed_at[person_id]
            private = [
                written.get((person_id, m.message_id), at)
                for m in telegram.history.get(person_id, [])
                if m.from_bot
            ]
            in_group = [
                written.get((group.id, m.message_id), at)
                for m in telegram.history.get(group.id, [])
                if m.from_bot
                and m.message_id > said_id
                and (
                    (m.reply_to is not None and m.reply_to.message_id == said_id)
                    or f"tg://user?id={person_id}" in (m.html or "")
                )
            ]
            return min(private + in_group, default=None)

        # 4. A question right after the rush: it must not wait behind the joins' answers.
        asker = people[-1]
        asked = await telegram.send(asker, group, "/today")
        asked_at = time.monotonic()

        confirmed: dict[int, float] = {}

        def all_confirmed() -> bool:
            for person_id in typed_at:
                if person_id not in confirmed and (told := told_at(person_id)) is not None:
                    confirmed[person_id] = told - typed_at[person_id][0]
            return len(confirmed) == len(typed_at)

        async def today_answered() -> float:
            try:
                await telegram.wait_message(group, "Open now", timeout=180, after=asked.message_id)
            except AssertionError:
                return float("inf")
            return time.monotonic() - asked_at

        answering = asyncio.create_task(today_answered())
        peak_rss = rss_mb(bot.pid)
        with contextlib.suppress(TimeoutError):
            await telegram.wait_for(all_confirmed, timeout=180)
        today = await answering
        peak_rss = max(peak_rss, rss_mb(bot.pid))
        longest = max(confirmed.values()) if len(confirmed) == len(typed_at) else float("inf")
        group_messages = sum(
            1
            for m in telegram.history.get(group.id, [])
            if m.from_bot and m.message_id not in before and "Open now" not in m.text
        )
    finally:
        bot.send_signal(signal.SIGTERM)
        _, err = await bot.communicate()
        await telegram.stop()
    too_many = telegram.count("sendMessage", 429) + telegram.count("editMessageText", 429)
    print(f"{presses} presses on item 1 (stock 50): {sold} joined, {too_many} 429s")
    print(
        f"press to answer: p50 {statistics.median(waits):.2f} s, "
        f"p99 {percentile(waits, 0.99):.2f} s, last {max(waits):.2f} s"
    )
    print(f"bot CPU until the last answer: {burst_cpu:.2f} s in {burst_wall:.2f} s")
    print(f"typed joins confirmed: {len(confirmed)} of {typed}")
    print(f"RSS idle {idle_rss:.0f} MB, {peak_rss:.0f} MB after the rush")
    show_crash(err)
    print(
        f"rush: {presses} presses p50 {statistics.median(waits):.2f} s "
        f"p99 {percentile(waits, 0.99):.2f} s; {typed} typed joins -> {group_messages} group "
        f"messages, all confirmed in {longest:.2f} s; /today answered in {today:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--typed", type=int, default=60)
    parser.add_argument(
        "--unstarted", type=int, default=10, help="of those who type, how many never started me"
    )
    parser.add_argument(
        "--database",
        help="a database URL (default: a fresh SQLite file); a PostgreSQL database of that name "
        "is dropped and created again",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = database_for(args.database, workdir, "rush.sqlite3")
        asyncio.run(run(args.presses, args.typed, args.unstarted, url, Path(workdir)))


if __name__ == "__main__":
    main()
