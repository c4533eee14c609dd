"""Engine and session factory for SQLite (the embedded default) and PostgreSQL.

SQLite: WAL (readers never wait for the writer), a busy timeout, foreign keys on, and every
writing transaction begins IMMEDIATE, so a transaction that reads and then writes never fails half
way because another writer got there first. Read-only units (`services.kernel.uow.read_only`) skip it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot import sqlite_driver
from bot.services.kernel.effects import BUS, EffectBus

SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str, *, for_migrations: bool = False, **kwargs: Any) -> AsyncEngine:
    """`for_migrations`: SQLite without foreign-key enforcement, as Alembic's table rebuilds need
    (a rebuilt parent table would otherwise take its children's rows with it)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Waiting for the write lock is the normal case under load, not an error.
    kwargs.setdefault("pool_timeout", 120)
    # Every unit of work ends its transaction, and reads open none (see _on_begin): a rollback
    # when a connection goes back to the pool would be one more trip to SQLite for nothing.
    kwargs.setdefault("pool_reset_on_return", None)
    if parsed.get_driver_name() == "aiosqlite":
        parsed = parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")
    engine = create_async_engine(parsed, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN (below) instead of the driver's implicit, deferred one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA foreign_keys={'OFF' if for_migrations else 'ON'}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("tuanbot_read_only"):
            return  # a read needs no transaction of its own in WAL mode: each SELECT is one
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_session_factory(
    engine: AsyncEngine, effects: EffectBus | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose committed units of work hand their effects to `effects` (if given)."""
    info = {BUS: effects} if effects is not None else None
    return async_sessionmaker(engine, expire_on_commit=False, info=info)
