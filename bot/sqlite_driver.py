"""SQLite through aiosqlite, one trip to its thread per statement.

aiosqlite runs every sqlite3 call in a thread of its own and hands each result back to the event
loop. SQLAlchemy's adapter drives it call by call — open a cursor, execute, fetch the rows, close
the cursor — so each statement costs four round trips between the event loop and that thread,
and a join (seven statements, with BEGIN and COMMIT) about thirty. On a busy two-core machine
those trips, not SQLite, are most of a join's time.

This dialect is SQLAlchemy's `sqlite+aiosqlite`, with one change: a statement's whole sqlite3
work (cursor, execute, rows, close) is one function run in the connection's thread, queued the
way SQLAlchemy's own adapter queues its isolation-level change. Everything else — the
connection, commit, rollback, errors — is SQLAlchemy's and aiosqlite's as they are.
`bot.db.create_engine` uses it for every `sqlite+aiosqlite` URL.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "aiosqlite_one_trip"
T = TypeVar("T")

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


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
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

    def _trip(self, work: Callable[[sqlite3.Connection], Outcome]) -> None:
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
        self._trip(partial(_run, operation=operation, parameters=parameters or ()))

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._trip(partial(_run_many, operation=operation, parameters=seq_of_parameters))

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """Nothing is left open between trips."""


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass, as mypy sees not


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


class OneTripDialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True  # it compiles exactly as sqlite+aiosqlite

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")
