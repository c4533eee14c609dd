"""Keeps every drop post current by editing it: members, "formed" marks, time left, outcomes.

Joins, cancellations and closings `touch` their post. A touched post is redrawn after a short
gathering pause (`gather`) and never sooner than `min_gap` after its previous edit, so a burst of
200 joins in a group costs one or two edits, and a group never sees more than 60 / `min_gap`
edits a minute from this (7.5 with the default 8 s), well inside its 20 messages a minute, which
leaves room for the replies and notices that share the budget. Every `scan_every` seconds the
posts the database calls live are redrawn too: that moves the coarse time left along, and after
a restart or on another instance brings every post up to date.

A post is edited only when what it would show differs from what it shows (a digest is kept in
the database). Edits go at a priority below pickup codes and above broadcasts. A failed edit is
tried again later; an edit Telegram refuses for good (the message was deleted) is not.

Several instances share the posts: before editing, an instance claims the post in the database
(a lease, and the gap since the post's last edit by anyone), so one group sees the edits of one
refresher however many instances run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.limiter import send_priority
from bot.parts import Part, digest
from bot.services.kernel.clock import utcnow
from bot.services.ordering import live_posts
from bot.services.ordering.live_posts import LivePost

log = logging.getLogger(__name__)

EDIT_PRIORITY = 55  # after codes, notices and replies; before broadcasts (60)

PostRenderer = Callable[[LivePost], list[Part] | None]


class PostRefresher:
    def __init__(
        self,
        bot: Bot,
        session_factory: async_sessionmaker[AsyncSession],
        render: PostRenderer,
        *,
        gather: float = 2.0,
        min_gap: float = 8.0,
        scan_every: float = 60.0,
        concurrency: int = 4,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.bot = bot
        self.session_factory = session_factory
        self.render = render
        self.gather = gather
        self.min_gap = min_gap
        self.scan_every = scan_every
        self.concurrency = concurrency
        # Long enough for an edit that waits its turn behind a burst of messages in the limiter;
        # after a crash the post is drawn again once it lapses.
        self.lease = lease
        self._due: dict[int, float] = {}  # post id -> loop time it may be redrawn
        self._last_edit: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self.edits = 0  # edits Telegram accepted, for /status and the tests

    def touch(self, post_ids: Iterable[int]) -> None:
        """These posts changed: redraw them soon."""
        now = asyncio.get_running_loop().time()
        for post_id in post_ids:
            if post_id in self._due:
                continue  # already waiting: this change is gathered into the same edit
            earliest = self._last_edit.get(post_id, -self.min_gap) + self.min_gap
            self._due[post_id] = max(now + self.gather, earliest)
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="live-posts")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_scan = loop.time()
        while True:
            now = loop.time()
            if now >= next_scan:
                next_scan = now + self.scan_every
                try:
                    async with self.session_factory() as session:
                        self.touch(await live_posts.live_post_ids(session))
                except Exception:
                    log.exception("could not list the live posts")
            for post_id, at in list(self._due.items()):
                if at <= now and len(self._running) < self.concurrency:
                    del self._due[post_id]
                    task = asyncio.create_task(self._redraw(post_id))
                    self._running.add(task)
                    task.add_done_callback(self._done)
            wait = min([next_scan, *self._due.values()]) - loop.time()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.05, wait)):
                    await self._wake.wait()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free

    async def _redraw(self, post_id: int) -> None:
        loop = asyncio.get_running_loop()
        token = send_priority.set(EDIT_PRIORITY)
        try:
            drawn_at = utcnow()
            async with self.session_factory() as session:
                live = await live_posts.live_post(session, post_id)
            if live is None:
                return
            parts = self.render(live)
            if parts is None:
                log.warning("post %s no longer fits its messages; not edited", post_id)
                return
            drawing = digest(parts)
            if drawing == live.render_hash:
                return
            async with self.session_factory() as session:
                claimed = await live_posts.claim_drawing(
                    session, post_id, utcnow(), timedelta(seconds=self.min_gap), self.lease
                )
            if not claimed:
                # Another instance is drawing it, or just did: look again after the gap, when
                # what it drew will usually match and nothing is edited.
                self._again(post_id, self.min_gap)
                return
            try:
                self._last_edit[post_id] = loop.time()
                for part in parts:
                    await self._edit(live.chat_id, part)
                async with self.session_factory() as session:
                    await live_posts.record_drawing(session, post_id, drawing, drawn_at)
            except BaseException:
                await self._release(post_id)  # not drawn (or not recorded): free it at once
                raise
        except TelegramRetryAfter as error:
            self._again(post_id, error.retry_after)
        except (TelegramNetworkError, TelegramServerError) as error:
            log.info("editing post %s failed (%s); trying again", post_id, error.message)
            self._again(post_id, self.min_gap)
        except TelegramForbiddenError:
            pass  # the bot left the group; the sender deactivates the community
        except Exception:
            log.exception("could not redraw post %s", post_id)
            self._again(post_id, self.scan_every)
        finally:
            send_priority.reset(token)

    async def _release(self, post_id: int) -> None:
        try:
            async with self.session_factory() as session:
                await live_posts.release_drawing(session, post_id)
        except Exception:
            # The lease lapses by itself; the post is drawn again after it.
            log.exception("could not release post %s", post_id)

    def _again(self, post_id: int, delay: float) -> None:
        at = asyncio.get_running_loop().time() + delay
        self._due[post_id] = max(at, self._due.get(post_id, at))
        self._wake.set()

    async def _edit(self, chat_id: int, part: Part) -> None:
        assert part.edit_message_id is not None
        if part.picture is not None and not part.text:
            return  # a picture sent ahead of a long post's list: nothing on it changes
        try:
            if part.picture is not None:
                # The picture stays; its caption is the post.
                await self.bot.edit_message_caption(
                    chat_id=chat_id,
                    message_id=part.edit_message_id,
                    caption=part.text,
                    reply_markup=part.markup,
                )
            else:
                await self.bot.edit_message_text(
                    part.text,
                    chat_id=chat_id,
                    message_id=part.edit_message_id,
                    reply_markup=part.markup,
                )
            self.edits += 1
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                # Deleted, or too old to edit: it stays as it is, and is not tried again.
                log.info(
                    "post message %s in %s not edited: %s",
                    part.edit_message_id,
                    chat_id,
                    error.message,
                )
