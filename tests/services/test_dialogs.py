"""Dialogs kept in the database: what a resident answered survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.dialog_storage import DatabaseStorage
from bot.services.kernel import dialogs
from models import Dialog


class Asking(StatesGroup):
    name = State()


WEI = StorageKey(bot_id=1, chat_id=7, user_id=7)
MEI = StorageKey(bot_id=1, chat_id=8, user_id=8)


async def test_a_dialog_is_found_again_by_a_new_storage(engine: AsyncEngine) -> None:
    factory = create_session_factory(engine)
    first = DatabaseStorage(factory)
    await first.set_state(WEI, Asking.name)
    await first.update_data(WEI, {"step": 1, "answers": {"name": "Plum Garden"}})
    await first.set_state(MEI, "other:step")

    restarted = DatabaseStorage(factory)  # as after a restart: nothing in memory yet
    assert await restarted.get_state(WEI) == Asking.name.state
    assert await restarted.get_data(WEI) == {"step": 1, "answers": {"name": "Plum Garden"}}
    assert await restarted.get_state(MEI) == "other:step"
    assert await restarted.get_data(MEI) == {}
    assert await restarted.get_state(StorageKey(bot_id=1, chat_id=9, user_id=9)) is None


async def test_a_finished_dialog_leaves_nothing_behind(engine: AsyncEngine) -> None:
    factory = create_session_factory(engine)
    storage = DatabaseStorage(factory)
    await storage.set_state(WEI, Asking.name)
    await storage.set_data(WEI, {"step": 0})
    data = await storage.get_data(WEI)
    data["step"] = 5  # a copy: changing it changes nothing stored
    assert await storage.get_data(WEI) == {"step": 0}
    await storage.set_state(WEI, None)
    await storage.set_data(WEI, {})
    assert await storage.get_state(WEI) is None
    async with factory() as session:
        assert await session.scalar(select(func.count()).select_from(Dialog)) == 0
    assert await DatabaseStorage(factory).get_data(WEI) == {}


async def test_a_dialog_left_for_a_week_is_forgotten(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    await dialogs.save_state(session, "old", "asking", now - timedelta(days=8))
    await dialogs.save_state(session, "recent", "asking", now - timedelta(days=6))
    await dialogs.forget(session, now - timedelta(days=7))
    kept = await dialogs.open_dialogs(session)
    assert [key for key, _, _ in kept] == ["recent"]
