"""Who is asking and where, read for every update: the user, the group's community, what they lead.

Every update needs this read before anything else, and in the evening rush hundreds of updates
arrive together (300 residents pressing Join; polling hands them over a hundred at a time). Read
one by one, that is hundreds of transactions of one small SELECT each, whose cost is nearly all
SQLAlchemy's and the driver's per-statement work. `ContextReads` gathers the reads asked for at
the same moment (in the same turn of the event loop) and makes them as one: two or three
statements for all of them, each update getting its own answer. Nothing is kept between turns, so
nothing can be out of date: each update reads after it arrived, as before.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Profile, UserRef, profile_changed, save_profile_now
from bot.services.kernel.uow import read_only
from models import Community, User

ContextKey = tuple[int, int | None]  # (user, the group's chat; None in a private chat)
Known = tuple[UserRef | None, CommunityRef | None, tuple[CommunityRef, ...]]

MOST_AT_ONCE = 500  # keys in one read: far below any database's limit on bound parameters


@dataclass(frozen=True)
class Context:
    user: UserRef
    community: CommunityRef | None
    leads: tuple[CommunityRef, ...]  # communities this user leads (active ones)


async def load_context(
    session: AsyncSession,
    profile: Profile,
    chat_id: int | None,
    now: datetime,
    reads: ContextReads | None = None,
) -> Context:
    """Who is asking and where: one read (together with the others asked for at the same moment,
    through `reads`), and a write only when Telegram shows a new user or changed names. `chat_id`
    is the group's (None in a private chat)."""
    key = (profile.id, chat_id)
    if reads is None:
        known, community, leads = (await read_contexts(session, [key]))[key]
    else:
        known, community, leads = await reads.read(key)
    user = known
    if known is None or profile_changed(known, profile):
        user = await save_profile_now(session, profile, now)
    assert user is not None
    return Context(user=user, community=community, leads=leads)


@read_only
async def read_contexts(
    session: AsyncSession, keys: Collection[ContextKey]
) -> dict[ContextKey, Known]:
    """For each (user, chat): the user (None if unknown), the group's community (None in a
    private chat, or a group that is not one) and, in a private chat, the active communities
    they lead. Rows are read as plain columns: ORM objects cost more to build."""
    statements = _statements()
    user_ids = list({user_id for user_id, _ in keys})
    chat_ids = list({chat_id for _, chat_id in keys if chat_id is not None})
    privately = list({user_id for user_id, chat_id in keys if chat_id is None})
    found = await session.execute(statements.users, {"ids": user_ids})
    users = {row.id: UserRef.of(cast(Any, row)) for row in found}
    groups: dict[int, CommunityRef] = {}
    if chat_ids:
        found = await session.execute(statements.groups, {"ids": chat_ids})
        groups = {row.chat_id: CommunityRef.of(cast(Any, row)) for row in found}
    led: dict[int, list[CommunityRef]] = {}
    if privately:
        for row in await session.execute(statements.led, {"ids": privately}):
            led.setdefault(row.leader_id, []).append(CommunityRef.of(cast(Any, row)))
    return {
        (user_id, chat_id): (
            users.get(user_id),
            groups.get(chat_id) if chat_id is not None else None,
            tuple(led.get(user_id, ())) if chat_id is None else (),
        )
        for user_id, chat_id in keys
    }


@dataclass(frozen=True)
class _Statements:
    users: Select[Any]
    groups: Select[Any]
    led: Select[Any]


@functools.cache
def _statements() -> _Statements:
    """Built once: building a statement costs more than SQLite takes to run it."""
    users, places = cast(Table, User.__table__), cast(Table, Community.__table__)
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    return _Statements(
        users=select(users).where(users.c.id.in_(ids)),
        groups=select(places).where(places.c.chat_id.in_(ids)),
        led=select(places)
        .where(places.c.leader_id.in_(ids), places.c.active.is_(True))
        .order_by(places.c.id),
    )


class ContextReads:
    """Reads asked for in the same turn of the event loop, made together in one read-only unit
    of its own session; each asker gets its own answer (or the read's error)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self._asked: dict[ContextKey, list[asyncio.Future[Known]]] = {}
        self._reading: set[asyncio.Task[None]] = set()  # held: a task nobody holds may vanish

    async def read(self, key: ContextKey) -> Known:
        loop = asyncio.get_running_loop()
        if not self._asked:
            # Runs after every task already scheduled in this turn has asked (asyncio runs the
            # callbacks added during a turn in the next one).
            loop.call_soon(self._read_asked)
        # One future per asker: an asker cancelled while it waits cancels only its own.
        answer: asyncio.Future[Known] = loop.create_future()
        self._asked.setdefault(key, []).append(answer)
        return await answer

    def _read_asked(self) -> None:
        asked, self._asked = self._asked, {}
        keys = list(asked)
        for start in range(0, len(keys), MOST_AT_ONCE):
            part = {key: asked[key] for key in keys[start : start + MOST_AT_ONCE]}
            task = asyncio.create_task(self._answer(part))
            self._reading.add(task)
            task.add_done_callback(self._reading.discard)
            task.add_done_callback(functools.partial(_give_up, part))

    async def _answer(self, asked: dict[ContextKey, list[asyncio.Future[Known]]]) -> None:
        try:
            async with self.session_factory() as session:
                found = await read_contexts(session, asked.keys())
        except Exception as error:  # each asker fails as its own read would have
            for answer in _waiting(asked):
                answer.set_exception(error)
            return
        for key, answers in asked.items():
            for answer in answers:
                if not answer.done():
                    answer.set_result(found[key])


def _give_up(asked: dict[ContextKey, list[asyncio.Future[Known]]], _read: object) -> None:
    """A read that ended without answering (cancelled as the bot stops, even before it began)
    cancels whoever still waits for it: nobody is left waiting for ever."""
    for answer in _waiting(asked):
        answer.cancel()


def _waiting(asked: dict[ContextKey, list[asyncio.Future[Known]]]) -> list[asyncio.Future[Known]]:
    return [answer for answers in asked.values() for answer in answers if not answer.done()]
