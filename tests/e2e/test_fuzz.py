"""Random commands with random arguments, from every role, in the group and in private chats,
against the running bot and the local Telegram-like server. For every one:

- no unhandled error ("something went wrong" is never said);
- a known command is answered (in the chat, or privately to the sender);
- Telegram never refuses what the bot sends (no 400: every reply fits, every HTML parses);
- a command that was refused changed nothing: when no unit of work committed for the update (its
  inbox row is not marked handled), the domain's tables are exactly as before.

Seeded (derandomized) and short by default; `FUZZ_EXAMPLES=2000` runs a longer one.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import create_engine
from handlers import commands
from tests.e2e.story import Story
from tests.fakegram import FakeChat, FakeUser

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))

KNOWN = set(
    {name for group in (commands.RESIDENT_GROUP, commands.RESIDENT_PRIVATE) for name, *_ in group}
    | {name for name, *_ in commands.LEADER}
    | {name for name, *_ in commands.ADMIN}
    | {"start", "done", "points", "invite"}
)
PRIVATE_ONLY = {"done"}  # only a private dialog's step
# What a careless or hostile user types after a command.
WORDS = [
    "",
    "1",
    "2",
    "0",
    "-1",
    "999",
    "1000",
    "99999999999",
    "²",
    "٣",
    "１２",
    "#1",
    "x",
    "two",
    "1 2",
    "1 2 3",
    "1 999",
    "1234567",
    "１２３４５６７",
    "9999-12-31",
    "0001-01-01",
    "2026-13-01",
    "2026-11-30",
    "9999-12",
    "2026-11",
    "+2h",
    "18:00",
    "25:99",
    "en",
    "zh",
    "fr",
    "off",
    "timezone=Europe",
    "timezone=Asia/Shanghai",
    "nudges=60m,15m",
    "nudges=0",
    "reminder=19:00",
    "reminder=",
    "commission=8.5%",
    "commission=101%",
    "language=zh",
    "address=Gate 3",
    "notes=" + "n" * 1100,
    "ref-²",
    "ref-1",
    "point-1",
    "codes",
    "&<b>",
    "<i>",
    "&amp;",
    "x" * 4000,
    "=",
    "a=b=c",
    "地址=三号门",
    "|",
    "\nEggs | 12",
    "\nEggs | " + "9" * 50,
    "deadline=+1m min=1\nEggs | 12 | stock=2",
    "\n" + "y" * 300 + " | 1",
]
ARGUMENT = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet=st.sampled_from(list("0123456789 =-+:|#&<>abcxyz团购\n²")), max_size=40),
    st.integers(-(10**12), 10**12).map(str),
)
CASES = st.tuples(
    st.sampled_from(["admin", "leader", "resident", "newcomer"]),
    st.sampled_from(["group", "private"]),
    st.one_of(st.sampled_from(sorted(KNOWN)), st.sampled_from(["foo", "JOIN", "join@other_bot"])),
    st.lists(ARGUMENT, max_size=3).map(" ".join),
)
# The domain: what a refused command must leave as it was (not users' names, the inbox, the
# outbox or the delivery log, which any update may touch, nor the wrong-code guard's counts).
DOMAIN = [
    "communities", "drops", "drop_items", "drop_posts", "group_buys", "orders", "pickup_codes",
    "handovers", "ledger_entries", "after_sale_requests", "shipments", "broadcasts",
]  # fmt: skip


async def snapshot(engine: AsyncEngine) -> dict[str, list[Any]]:
    async with engine.connect() as connection:
        return {
            table: [tuple(row) for row in await connection.execute(text(f"SELECT * FROM {table}"))]
            for table in DOMAIN
        }


async def handled(engine: AsyncEngine, update_id: int) -> tuple[bool, bool]:
    """(finished, handled) of a stored update."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT finished_at, handled_at FROM inbox WHERE update_id = :u"),
                {"u": update_id},
            )
        ).first()
    return (row is not None and row[0] is not None, row is not None and row[1] is not None)


async def acknowledged(engine: AsyncEngine, update_id: int) -> bool:
    """Whether a confirmation for the group was queued for this update."""
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE :key"),
            {"key": f"group-ack:{update_id}:%"},
        )
    return bool(found)


@pytest.fixture
async def world(story: Story, database_url: str) -> Any:
    await story.open_community(point="Gate 3")
    for resident in story.residents[:3]:
        await story.start(resident)
    await story.post("/drop deadline=+2h min=2\nEggs | 12 | limit=3\nMilk | 8 | stock=5")
    await story.typed(story.alice, "/join 1 2", "No. 1")
    assert story.app is not None
    story.app.runner.finish_every = 0.02  # the test waits for each update to be finished
    engine = create_engine(database_url)
    yield story, engine
    await engine.dispose()


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=CASES)
async def test_random_commands_are_answered_fit_and_change_nothing_when_refused(
    world: Any, case: tuple[str, str, str, str]
) -> None:
    story, engine = world
    tg = story.tg
    role, place, command, arguments = case
    user: FakeUser = {
        "admin": story.admin,
        "leader": story.leader,
        "resident": story.bob,
        "newcomer": story.residents[5],
    }[role]
    chat: FakeChat | FakeUser = story.group if place == "group" else user
    message = f"/{command} {arguments}".strip()[:4096]
    before = await snapshot(engine)
    seen = len(tg.requests)
    sent = await tg.send(user, chat, message)
    update_id = tg.update_of(sent)
    finished = effect = False
    # A guard against a hang, not a measure of speed: a loaded machine may take a while.
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        finished, effect = await handled(engine, update_id)
        if finished:
            break
        await tg.idle(quiet=0.05, timeout=5)
    assert finished, f"{message!r} was never finished"
    await tg.idle(quiet=0.1)
    new = tg.requests[seen:]
    refused = [f"{r.method}: {r.description}" for r in new if r.status == 400]
    assert not refused, (message, refused)
    said = [
        m.text
        for where in (chat, user)
        for m in tg.sent(where)
        if m.message_id > (sent.message_id if where is chat else 0)
    ]
    assert not [s for s in said if "something went wrong" in s], message
    answered = [
        r
        for r in new
        if r.method in {"sendMessage", "sendDocument", "editMessageText", "sendMediaGroup"}
        and str(r.params.get("chat_id")) in {str(chat.id), str(user.id)}
    ]
    # Groups are left in peace: what is not a group command there gets no answer.
    unknown_in_group = place == "group" and command not in KNOWN - PRIVATE_ONLY
    if not unknown_in_group and not answered:
        # A typed join of someone the bot cannot write to is confirmed in the group a moment
        # later, with others: queued is answered.
        assert await acknowledged(engine, update_id), (
            f"{message!r} from the {role} in the {place} got no answer"
        )
    if not effect:
        assert await snapshot(engine) == before, f"refused {message!r} changed something"
