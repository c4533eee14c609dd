"""The Timekeeper wakes the bot at every moment the database says something is due.

The database is the source of truth for time: deadlines, post times, nudge and reminder times
live in rows. A tick runs the idempotent services "post everything due", "close everything
overdue", "nudge items still short" and "remind residents with goods waiting", so a tick that runs
late, twice, or in a second process cannot skip or double anything (each message has its
idempotency key). Ticks are armed at each known moment (deadlines, scheduled posts, nudges):
services record the moments they create as effects of their commits, which reach `arm`; a
sweep every `sweep_seconds` catches anything armed elsewhere (another process) or missed, and is
when the reminders (a local time of day per community) are looked at. On start, one tick catches
up with whatever fell due while the bot was down, and every future moment is armed again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.community import nearby
from bot.services.kernel import dialogs, inbox, outbox
from bot.services.kernel.clock import utcnow
from bot.services.ordering import closing, drops, nudges
from bot.services.payments import reservations
from bot.services.pickup import guessing, reminders

log = logging.getLogger(__name__)


class Timekeeper:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        sweep_seconds: float = 15.0,
        after_tick: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.session_factory = session_factory
        # Work that talks to Telegram on every tick (refunds in Stars), after the services ran.
        self.after_tick = after_tick
        self.sweep_seconds = sweep_seconds
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()
        self._ticks: set[asyncio.Task[None]] = set()  # ticks for moments already past

    async def start(self) -> None:
        self.scheduler.start()
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.sweep_seconds, timezone=UTC),
            id="sweep",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            self.maintain,
            IntervalTrigger(hours=1, timezone=UTC),
            id="maintenance",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        await self.tick()
        async with self.session_factory() as session:
            self.arm(await drops.scheduled_times(session))
            self.arm(await nudges.nudge_moments(session, utcnow()))

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await asyncio.gather(*self._ticks, return_exceptions=True)
        async with self._lock:  # let a running tick finish its transaction
            pass

    def arm(self, moments: Iterable[datetime]) -> None:
        """Wake at each of these moments (a moment already armed is armed once)."""
        if not self.scheduler.running:
            return  # stopped (or not yet started: `start` arms every known moment itself)
        now = utcnow()
        for moment in moments:
            if moment <= now:
                task = asyncio.get_running_loop().create_task(self.tick())
                self._ticks.add(task)
                task.add_done_callback(self._ticks.discard)
                continue
            self.scheduler.add_job(
                self.tick,
                DateTrigger(run_date=moment, timezone=UTC),
                id=f"due:{moment.isoformat()}",
                replace_existing=True,
                misfire_grace_time=None,
            )

    async def maintain(self) -> None:
        """Forget what is no longer needed: handled updates after two days (Telegram never
        resends one that old), delivery events after a week, /near's offers once they no longer
        let anyone in, dialogs left unanswered for a week."""
        try:
            now = utcnow()
            async with self.session_factory() as session:
                await inbox.prune(session, now - timedelta(days=2))
                await outbox.prune_events(session, now - timedelta(days=7))
                await guessing.forget(session, now - timedelta(days=1))
                await nearby.forget_offers(session, now)
                await dialogs.forget(session, now - timedelta(days=7))
        except Exception:
            log.exception("maintenance failed")

    async def tick(self) -> None:
        async with self._lock:
            try:
                now = utcnow()
                # What these queue, open or close reaches the sender, the refresher and this
                # timekeeper (new deadlines) as effects of their commits.
                async with self.session_factory() as session:
                    deadlines = await drops.post_due(session, now)
                    lapsed = await reservations.lapse_due(session, now)
                    closed = await closing.close_due(session, now)
                    nudged = await nudges.nudge_due(session, now)
                    reminded = await reminders.auto_remind(session, now)
                if deadlines or closed or nudged or reminded or lapsed:
                    log.info(
                        "tick: %d posts out, %d reservations lapsed, %d items closed, "
                        "%d nudges, %d reminders",
                        len(deadlines),
                        lapsed,
                        len(closed),
                        nudged,
                        reminded,
                    )
            except Exception:
                # The next tick or sweep tries again; nothing is half-done (one transaction each).
                log.exception("tick failed")
            if self.after_tick is not None:
                try:
                    await self.after_tick()
                except Exception:
                    log.exception("after the tick")
