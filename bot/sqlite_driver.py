"""SQLite through aiosqlite, with the statements run right on the event loop's thread.

aiosqlite runs every sqlite3 call in a thread of its own and hands each result back to the event
loop; SQLAlchemy's adapter drives it call by call (cursor, execute, rows, close: four trips per
statement). Each trip is a wake-up of the event loop through a pipe, two system calls that are
slow on a small virtual machine, and in a rush the result then waits behind every other task
the loop has to run. A Join press is one read (who and where) and, when it joins, a transaction
of five statements; the statements themselves take SQLite some tens of microseconds.

So this dialect (SQLAlchemy's `sqlite+aiosqlite` with one change) runs a statement's whole
sqlite3 work — cursor, execute, rows, close — and COMMIT and ROLLBACK directly on the event
loop's thread: no trip, no waiting in line. The one statement that can wait is `BEGIN IMMEDIATE`
(another process may hold the write lock, up to the busy timeout), and it still goes to the
connection's aiosqlite thread, so the loop never sleeps on a lock. Within the process, writers
take turns before BEGIN (services/kernel/uow.py) and reads never wait in WAL mode. A long query
holds the loop as long as SQLite works on it, which for this bot's queries is far less than the
Python work on their rows that runs on the loop in any case. With bot/heap.py, a 300-press rush
costs the bot about half the CPU time it did (bench/rush.py; figures in the README).

`bot.db.create_engine` uses it for every `sqlite+aiosqlite` URL. Connection, errors and closing
are SQLAlchemy's and aiosqlite's as they are.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "aiosqlite_here"
T = TypeVar("T")

# Waits for another process's write lock (busy timeout): never on the event loop's thread.
MAY_WAIT = frozenset({"BEGIN IMMEDIATE"})

Outcome = tuple[list[Any], tuple[Any, int, int | None]]  # rows; description, rowcount, lastrowid


def _run(sqlite_connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    """In the connection's thread: the statement, start to finish."""
    cursor = sqlite_connection.cursor()
    try:
        cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return rows, (cursor.description, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


def _run_many(
    sqlite_connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]
) -> Outcome:
    cursor = sqlite_connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return [], (cursor.description, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


def _handed_over(result: T) -> T:
    """`result`, passed through the event loop's side as an awaited, already finished future.
    SQLAlchemy's async connection refuses a call during which nothing was awaited (it takes it
    for a driver that is not async); awaiting a finished future counts, yet waits for nothing."""
    finished: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    finished.set_result(result)
    return await_(finished)


class HereCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_meta",)

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        # No aiosqlite cursor is opened: each statement opens and closes its own in one trip.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._meta: tuple[Any, int, int | None] = (None, -1, None)

    @property
    def description(self) -> Any:
        return self._meta[0]

    @property
    def rowcount(self) -> int:
        return self._meta[1]

    @property
    def lastrowid(self) -> Any:
        return self._meta[2]

    def _here(self, work: Callable[[sqlite3.Connection], Outcome]) -> None:
        rows, self._meta = cast(HereConnection, self._adapt_connection).here(work)
        self._rows = collections.deque(rows)

    def _trip(self, work: Callable[[sqlite3.Connection], Outcome]) -> None:
        """In the connection's thread: for a statement that may wait for a lock."""
        aiosqlite_connection = self._connection
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        # As SQLAlchemy's own adapter does for the isolation level: queue the function for the
        # connection's thread, which runs it with the sqlite3 connection and sets the future.
        aiosqlite_connection._tx.put_nowait((future, partial(work, aiosqlite_connection._conn)))
        try:
            rows, self._meta = await_(future)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        work = partial(_run, operation=operation, parameters=parameters or ())
        if operation in MAY_WAIT:
            self._trip(work)
        else:
            self._here(work)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._here(partial(_run_many, operation=operation, parameters=seq_of_parameters))

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing is left open between trips."""


class HereConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = HereCursor  # type: ignore[assignment]  # a subclass, as mypy sees not

    # The write lock is held from BEGIN IMMEDIATE on, so COMMIT does not wait for it; ROLLBACK
    # never waits. Both run here, like the statements.
    def commit(self) -> None:
        if self._connection._connection:  # closed already: nothing to end (as SQLAlchemy's)
            self.here(sqlite3.Connection.commit)

    def rollback(self) -> None:
        if self._connection._connection:
            self.here(sqlite3.Connection.rollback)

    def here(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` on the event loop's thread: SQLite's work of a moment. Its errors are raised as
        SQLAlchemy's adapter raises them."""
        try:
            return _handed_over(work(self._connection._conn))
        except Exception as error:
            self._handle_exception(error)


class HereDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> HereConnection:
        # Made in aiosqlite's thread, used on the event loop's too (one at a time: each call is
        # awaited before the next).
        kw.setdefault("check_same_thread", False)
        adapted = super().connect(*arg, **kw)
        return HereConnection(self, adapted._connection)


class HereDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True  # it compiles exactly as sqlite+aiosqlite

    @classmethod
    def import_dbapi(cls) -> HereDBAPI:
        return HereDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "HereDialect")
