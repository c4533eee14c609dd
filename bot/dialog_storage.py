"""aiogram's FSM storage over the database: dialogs survive a restart without Redis.

Every change is written through to the database before it counts; reads come from memory, loaded
from the database once at the first use, because aiogram asks for the state of every update and a
burst of Join presses should not pay a query each for dialogs that are almost never open. This is
right for the one instance that runs without Redis; several instances share dialogs through
Redis (`REDIS_URL`), as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.kernel import dialogs
from bot.services.kernel.clock import utcnow


class DatabaseStorage(BaseStorage):
    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self.keys = DefaultKeyBuilder(with_bot_id=True)
        self._states: dict[str, str] = {}
        self._data: dict[str, dict[str, Any]] = {}
        self._loaded = False
        self._loading = asyncio.Lock()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._load()
        name = state.state if isinstance(state, State) else state
        where = self.keys.build(key)
        async with self.session_factory() as session:
            await dialogs.save_state(session, where, name, utcnow())
        if name is None:
            self._states.pop(where, None)
        else:
            self._states[where] = name

    async def get_state(self, key: StorageKey) -> str | None:
        await self._load()
        return self._states.get(self.keys.build(key))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._load()
        where = self.keys.build(key)
        async with self.session_factory() as session:
            await dialogs.save_data(session, where, data, utcnow())
        if data:
            self._data[where] = dict(data)
        else:
            self._data.pop(where, None)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        await self._load()
        return dict(self._data.get(self.keys.build(key), {}))

    async def close(self) -> None:
        """The session factory belongs to the bot; nothing to close here."""

    async def _load(self) -> None:
        if self._loaded:
            return
        async with self._loading:
            if self._loaded:
                return
            async with self.session_factory() as session:
                for key, state, data in await dialogs.open_dialogs(session):
                    if state is not None:
                        self._states[key] = state
                    if data:
                        self._data[key] = data
            self._loaded = True
