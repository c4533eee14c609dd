"""Units of work: every public service function owns exactly one transaction.

`@unit_of_work` begins the transaction, commits it when the function returns, rolls it back when
it raises (a domain refusal changes nothing), and retries the few database errors that mean
"try again" (a deadlock victim on PostgreSQL, a lock timeout on SQLite). Called from inside another
unit of work it joins that transaction instead of starting its own.

On SQLite the units of one process also take turns on an asyncio lock: the database allows one
writer anyway, and handing the turn over in-process is much faster than SQLite's busy-wait sleeps.

`@read_only` is for units that only read: on SQLite they neither take the turn nor the write
lock (WAL lets them read beside the writer), so a burst of writers does not hold them up.

Updates apply once: while an update from the inbox is being handled (`current_update`), the first
`@unit_of_work` marks it handled in its own transaction (at its end, before the commit), or
refuses with `AlreadyHandled` if a repeat of that update was handled before, rolling back what it
did (services/kernel/inbox.py). `@housekeeping` units write
without marking: what they do is not the update's effect (saving a user's new name, say).

Effects after commit (`effects.py`): what a unit records (messages queued, posts to redraw,
moments to wake at) is handed to the listeners only after its transaction committed, and
dropped when it rolls back.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel import effects
from models import InboxUpdate

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}  # serialization, deadlock, lock not available


class WriteTurn:
    """The turn to write on one SQLite database: first come, first served, except that an
    urgent unit goes before every unit still waiting (storing Telegram's updates: every answer,
    a pre-checkout's included, waits for its update to be stored first)."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())

    @asynccontextmanager
    async def __call__(self, urgent: bool = False) -> AsyncIterator[None]:
        if self._held or any(self._waiting):
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting[0 if urgent else 1].append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._pass_on()  # handed the turn as it was cancelled: hand it on
                raise
        else:
            self._held = True
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        for queue in self._waiting:
            while queue:
                waiter = queue.popleft()
                if not waiter.done():  # a cancelled waiter is skipped
                    waiter.set_result(None)  # the turn goes straight to it: still held
                    return
        self._held = False


_sqlite_turns: weakref.WeakKeyDictionary[Engine, WriteTurn] = weakref.WeakKeyDictionary()
READ_ONLY = {"tuanbot_read_only": True}  # connection option read by bot.db's BEGIN hook


@dataclass
class UpdateMark:
    update_id: int
    handled: bool = False


current_update: ContextVar[UpdateMark | None] = ContextVar("current_update", default=None)


@contextmanager
def handling(update_id: int) -> Iterator[UpdateMark]:
    """Units of work run inside belong to inbox update `update_id`: the first marks it handled."""
    mark = UpdateMark(update_id)
    token = current_update.set(mark)
    try:
        yield mark
    finally:
        current_update.reset(token)


class AlreadyHandled(Exception):
    """This update was delivered before and its effect already happened."""


@functools.cache
def _handled() -> Any:
    """Built once, on the table (not the ORM class): it runs in every transaction that is an
    update's effect, and building it each time cost a tenth of a join."""
    inbox = cast(Table, InboxUpdate.__table__)
    return (
        update(inbox)
        .where(inbox.c.update_id == bindparam("p_update_id"), inbox.c.handled_at.is_(None))
        .values(handled_at=bindparam("p_now"))
    )


async def _mark_handled(session: AsyncSession, mark: UpdateMark) -> None:
    result = await session.execute(
        _handled(), {"p_update_id": mark.update_id, "p_now": datetime.now(UTC)}
    )
    if not getattr(result, "rowcount", 0):
        raise AlreadyHandled(mark.update_id)


def is_transient(error: DBAPIError) -> bool:
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(original)


def _turn(session: AsyncSession, urgent: bool) -> AbstractAsyncContextManager[Any]:
    bind = session.bind
    engine = bind.sync_engine if bind is not None else None
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return nullcontext()
    turn = _sqlite_turns.get(engine)
    if turn is None:
        turn = _sqlite_turns[engine] = WriteTurn()
    return turn(urgent)


def _transactional(
    func: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
    *,
    writes: bool,
    marks: bool,
    urgent: bool = False,
) -> Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]]:
    @functools.wraps(func)
    async def run(session: AsyncSession, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if session.in_transaction():
            return await func(session, *args, **kwargs)
        mark = current_update.get() if marks else None
        if mark is not None and mark.handled:
            mark = None
        attempt = 1
        while True:
            if writes:
                effects.begin(session)
            try:
                async with _turn(session, urgent) if writes else nullcontext(), session.begin():
                    if not writes:
                        await session.connection(execution_options=READ_ONLY)
                    result = await func(session, *args, **kwargs)
                    if mark is not None:
                        # Last, in the same transaction: a repeat of the update rolls its work
                        # back; and a unit that refuses before touching the database (e.g. an
                        # item known to be sold out) costs no transaction at all.
                        await _mark_handled(session, mark)
            except BaseException as error:
                effects.discard(session)  # rolled back: nothing happened to act on
                if not isinstance(error, DBAPIError):
                    raise
                if attempt >= MAX_ATTEMPTS or not is_transient(error):
                    raise
                log.warning("retrying %s after %s (attempt %d)", func.__name__, error, attempt)
                await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
                attempt += 1
                continue
            if mark is not None:
                mark.handled = True
            if writes:
                effects.committed(session)
            return result

    return run


def unit_of_work(
    func: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]]:
    """A transaction that is the effect of the update being handled (if any)."""
    return _transactional(func, writes=True, marks=True)


def housekeeping(
    func: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]]:
    """A writing transaction that is not an update's effect and may run more than once."""
    return _transactional(func, writes=True, marks=False)


def first_in_line(
    func: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]]:
    """`housekeeping` that goes before the units waiting for SQLite's write turn (see
    `WriteTurn`): for storing updates, which everything else waits for."""
    return _transactional(func, writes=True, marks=False, urgent=True)


def read_only(
    func: Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[AsyncSession, P], Coroutine[Any, Any, R]]:
    """Like `unit_of_work` for a function that never writes."""
    return _transactional(func, writes=False, marks=False)
