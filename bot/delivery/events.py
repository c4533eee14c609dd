"""A log of what Telegram said when it did not simply accept a message, for /status.

Noting an event is instant (a list append); a background task writes them once a second in one
transaction, so a storm of 429s does not turn into a storm of database writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.kernel import outbox
from bot.services.kernel.clock import utcnow

log = logging.getLogger(__name__)


class DeliveryLog:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], every: float = 1.0):
        self.session_factory = session_factory
        self.every = every
        self._pending: list[outbox.Event] = []
        self._task: asyncio.Task[None] | None = None

    def note(self, kind: str, chat_id: int | None, detail: str | None = None) -> None:
        self._pending.append(outbox.Event(utcnow(), kind, chat_id, (detail or "")[:500] or None))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        events, self._pending = self._pending, []
        try:
            async with self.session_factory() as session:
                await outbox.record_events(session, events)
        except Exception:
            log.exception("could not record %d delivery events", len(events))
