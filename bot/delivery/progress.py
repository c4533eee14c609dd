"""Keeps each running broadcast's status message current: sent / total, failures, time left.

Every few seconds it edits the admin's status message when the numbers changed (an edit a few
seconds apart stays far below Telegram's one message a second per chat). What the message shows
is kept on the broadcast's row and claimed before each edit, so with several instances running
the admin still sees one edit every few seconds, not one per instance. The final report is not
this monitor's job: it is a queued message (`Kind.BROADCAST_REPORT`), so it survives a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.limiter import send_priority
from bot.parts import Part, digest
from bot.services import notices
from bot.services.community import broadcasts
from bot.services.community.broadcasts import Progress
from bot.services.kernel import outbox
from bot.services.kernel.clock import utcnow
from bot.services.kernel.outbox import Recipient

log = logging.getLogger(__name__)

ProgressRenderer = Callable[[AsyncSession, Progress, Recipient], Awaitable[Part]]


class BroadcastMonitor:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        render: ProgressRenderer,
        every: float = 3.0,
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.render = render
        self.every = every
        # Across all instances, one edit per `every` at most (a little less, as their timers
        # drift against each other and the clock).
        self.gap = timedelta(seconds=every * 0.8)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broadcast-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        send_priority.set(notices.PRIORITY[notices.Kind.BROADCAST_REPORT])
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.refresh()
            except Exception:
                log.exception("could not refresh broadcast progress")

    async def refresh(self) -> None:
        async with self.session_factory() as session:
            running = await broadcasts.in_progress(session)
            for progress in running:
                if progress.finished or progress.status_message_id is None:
                    continue  # the report takes over
                recipient = await outbox.user_recipient(session, progress.admin_id)
                part = await self.render(session, progress, recipient)
                async with self.session_factory() as claiming:
                    claimed = await broadcasts.claim_status_edit(
                        claiming, progress.broadcast_id, digest([part]), utcnow(), self.gap
                    )
                if not claimed:
                    continue  # unchanged, or another instance has just edited it
                with contextlib.suppress(TelegramAPIError):  # best effort: the report is durable
                    await self.bot.edit_message_text(
                        part.text,
                        chat_id=progress.admin_id,
                        message_id=progress.status_message_id,
                        reply_markup=part.markup,
                    )
