"""End-to-end fixtures: the real bot (Dispatcher, aiogram's HTTP session, polling) against the
local Telegram-like server, on a fresh real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app import TuanBot
from bot.config import Settings
from tests.e2e.story import Story
from tests.fakegram import TOKEN, FakeTelegram, Limits

# Telegram's limits, 50 times faster, so stories run in seconds while the bot still has to
# respect them; the bot is told the same rates.
SPEED = 50


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(limits=Limits().scaled(SPEED))
    await server.start()
    yield server
    await server.stop()


def make_settings(
    telegram: FakeTelegram, database_url: str, admin_id: int, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "bot_token": TOKEN,
        "telegram_api_url": telegram.url,
        "database_url": database_url,
        "admin_ids": frozenset({admin_id}),
        "default_language": "en",
        "timezone": "Asia/Shanghai",
        "send_rate_global": 30 * SPEED,
        "send_rate_chat": 1 * SPEED,
        "send_rate_group": 20 * SPEED,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


class RunningBot:
    """A TuanBot polling the local server in the test's event loop."""

    def __init__(self, settings: Settings, telegram: FakeTelegram) -> None:
        self.settings = settings
        self.telegram = telegram
        self.app: TuanBot | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> TuanBot:
        self.app = TuanBot(self.settings)
        polls = self.telegram.polls
        self.task = asyncio.create_task(self.app.run_polling(handle_signals=False))
        await self.telegram.wait_for(lambda: self.telegram.polls > polls or self.task.done())
        if self.task.done():
            self.task.result()
        return self.app

    async def stop(self) -> None:
        if self.app is not None and self.task is not None and not self.task.done():
            await self.app.stop()
            await asyncio.wait_for(self.task, 15)
        self.app = None


@pytest.fixture
async def story(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Story]:
    """The usual cast (an admin, a leader, residents, a group) with the bot running."""
    cast = Story(telegram)
    runner = RunningBot(make_settings(telegram, database_url, cast.admin.id), telegram)
    cast.app = await runner.start()
    cast.runner = runner
    yield cast
    await runner.stop()


@pytest.fixture
async def chinese(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Story]:
    """DEFAULT_LANGUAGE=zh, and residents whose Telegram speaks Chinese."""
    cast = Story(telegram)
    for person in (cast.leader, *cast.residents):
        person.language_code = "zh-hans"
    runner = RunningBot(
        make_settings(telegram, database_url, cast.admin.id, default_language="zh"), telegram
    )
    cast.app = await runner.start()
    yield cast
    await runner.stop()
