"""Who-and-where reads asked for at the same moment are made together, each asker getting its own."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.db import create_session_factory
from bot.services.community.context import ContextReads, load_context
from bot.services.community.people import Profile
from tests.world import make_community, make_resident


def count_statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    return seen


async def test_a_burst_of_group_reads_is_one_read_each_getting_its_own(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    sunny = await make_community(session, now, chat_id=-1001, name="Sunny Garden")
    maple = await make_community(session, now, chat_id=-1002, name="Maple Court")
    for user_id in range(100, 160):
        await make_resident(session, user_id, now, name=f"R{user_id}")
    reads = ContextReads(create_session_factory(engine))
    selects = count_statements(engine)

    async def press(user_id: int, chat_id: int) -> tuple[int, str, str | None]:
        async with create_session_factory(engine)() as own:
            context = await load_context(own, Profile(user_id, f"R{user_id}"), chat_id, now, reads)
        community = context.community.name if context.community else None
        return context.user.id, context.user.first_name, community

    asked = [(user_id, -1001 if user_id % 2 else -1002) for user_id in range(100, 160)]
    asked.append((100, -1003))  # a group that is not a community
    answers = await asyncio.gather(*(press(user_id, chat) for user_id, chat in asked))

    names = {-1001: sunny.name, -1002: maple.name, -1003: None}
    assert answers == [(user_id, f"R{user_id}", names[chat]) for user_id, chat in asked]
    assert len(selects) == 2  # the users, then the groups: not 61 of each


async def test_private_reads_together_carry_what_each_leads(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now, chat_id=-1001, name="Sunny Garden", leader_id=7)
    await make_community(session, now, chat_id=-1002, name="Maple Court", leader_id=7)
    await make_community(session, now, chat_id=-1003, name="Pine Yard", leader_id=8)
    await make_resident(session, 9, now, name="Nine")
    reads = ContextReads(create_session_factory(engine))

    async def ask(user_id: int, chat_id: int | None) -> tuple[str | None, list[str]]:
        known = await reads.read((user_id, chat_id))
        user, community, leads = known
        assert user is not None
        return (community.name if community else None), [c.name for c in leads]

    answers = await asyncio.gather(ask(7, None), ask(8, None), ask(9, None), ask(7, -1003))
    assert answers == [
        (None, ["Sunny Garden", "Maple Court"]),
        (None, ["Pine Yard"]),
        (None, []),
        ("Pine Yard", []),  # in a group: the group's community, not what they lead
    ]


async def test_a_read_that_fails_fails_each_asker_and_the_next_burst_reads_again(
    engine: AsyncEngine, session: AsyncSession, now: datetime, tmp_path: Path
) -> None:
    await make_community(session, now, chat_id=-1001)
    await make_resident(session, 5, now)
    # A database that cannot be opened: a directory that does not exist.
    broken = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")
    reads = ContextReads(create_session_factory(broken))
    failed = await asyncio.gather(
        reads.read((5, -1001)), reads.read((6, -1001)), return_exceptions=True
    )
    assert [type(error) for error in failed] == [OperationalError, OperationalError]
    await broken.dispose()

    reads.session_factory = create_session_factory(engine)
    user, community, _ = await reads.read((5, -1001))
    assert user is not None and user.id == 5
    assert community is not None and community.chat_id == -1001


async def test_one_asker_cancelled_leaves_the_others_with_the_same_question_answered(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now, chat_id=-1001)
    await make_resident(session, 5, now)
    reads = ContextReads(create_session_factory(engine))
    first = asyncio.create_task(reads.read((5, -1001)))
    second = asyncio.create_task(reads.read((5, -1001)))
    await asyncio.sleep(0)  # both have asked
    first.cancel()
    user, community, _ = await second
    assert user is not None and user.id == 5 and community is not None
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_an_unknown_user_is_saved_from_what_telegram_shows(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now, chat_id=-1001)
    reads = ContextReads(create_session_factory(engine))
    context = await load_context(session, Profile(42, "New"), -1001, now, reads)
    assert context.user.id == 42 and context.user.first_name == "New"
    assert context.community is not None
    again = await load_context(session, Profile(42, "New"), -1001, now, reads)
    assert again.user == context.user


async def test_a_read_cancelled_before_it_began_cancels_its_askers(
    engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    await make_community(session, now, chat_id=-1001)
    reads = ContextReads(create_session_factory(engine))
    asker = asyncio.create_task(reads.read((5, -1001)))
    await asyncio.sleep(0)  # it has asked
    await asyncio.sleep(0)  # the read is scheduled, not begun
    (reading,) = reads._reading
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(asker, timeout=5)  # not left waiting for ever
