"""Builds the bot once: database, Bot and Dispatcher, outbox sender, timekeeper; starts and stops it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from functools import partial

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot import webhook
from bot.config import LANGUAGES, Settings
from bot.db import create_engine, create_session_factory
from bot.delivery.events import DeliveryLog
from bot.delivery.fitting import FitToTelegram
from bot.delivery.limiter import RateLimiter, Throttle
from bot.delivery.pictures import DropPictures
from bot.delivery.post_refresher import PostRefresher
from bot.delivery.progress import BroadcastMonitor
from bot.delivery.sender import OutboxSender
from bot.delivery.shared_budget import SharedBudget
from bot.delivery.star_refunds import StarRefunder
from bot.dialog_storage import DatabaseStorage
from bot.i18n import Catalogs
from bot.isolation import LeasedEventIsolation
from bot.middlewares import setup_middlewares
from bot.parts import Part
from bot.polling import InboxPolling
from bot.services.community.broadcasts import Progress
from bot.services.kernel.effects import EffectBus, Effects
from bot.services.kernel.outbox import OutboxItem, Recipient
from bot.services.ordering.live_posts import LivePost
from bot.services.payments.amounts import STARS
from bot.updates import UpdateRunner
from handlers import commands, get_routers
from handlers.notices import NoticeRenderer
from handlers.refusals import explain
from scheduler import Timekeeper

log = logging.getLogger(__name__)


class TuanBot:
    """The whole application. `run_polling()` serves until stopped; tests drive it the same way."""

    def __init__(self, settings: Settings, api_session: BaseSession | None = None) -> None:
        self.settings = settings
        self.engine = create_engine(settings.database_url)
        # What committed units of work did reaches the sender, the refresher and the timekeeper
        # through this bus (wired below), never through the handlers.
        self.effects = EffectBus()
        self.session_factory = create_session_factory(self.engine, self.effects)
        self.catalogs = Catalogs(settings.default_language)
        self.limiter = RateLimiter(
            settings.send_rate_global, settings.send_rate_chat, settings.send_rate_group
        )
        self.delivery_log = DeliveryLog(self.session_factory)
        session = api_session or AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_url)
        )
        self.shared_budget = (
            SharedBudget(
                settings.redis_url,
                f"tuanbot:rate:{settings.bot_token.get_secret_value().split(':')[0]}",
                settings.send_rate_global,
                settings.send_rate_chat,
                settings.send_rate_group,
            )
            if settings.redis_url
            else None
        )
        session.middleware(FitToTelegram())  # first: each part of a split message is throttled
        session.middleware(
            Throttle(
                self.limiter,
                lambda chat_id, seconds: self.delivery_log.note("429", chat_id, f"{seconds}s"),
                shared=self.shared_budget,
            )
        )
        self.bot = Bot(
            settings.bot_token.get_secret_value(),
            session=session,
            default=DefaultBotProperties(
                parse_mode=ParseMode.HTML,
                link_preview_is_disabled=True,
                allow_sending_without_reply=True,  # a reply never fails because its message went
            ),
        )
        self.pictures = DropPictures(self.bot, self.session_factory, settings.currency)
        self.sender = OutboxSender(
            self.bot,
            self.session_factory,
            self._render,
            self.delivery_log,
            settings.admin_ids,
            pictures=self.pictures,
            # Polling means one instance; webhook instances share the outbox with others.
            exclusive=settings.webhook_url is None,
        )
        self.posts = PostRefresher(
            self.bot,
            self.session_factory,
            self._render_live_post,
            # Edits of one post take at most a third of its group's budget (one per 9 s at
            # Telegram's 20 a minute): the rest is for replies, nudges and notices.
            min_gap=3 * 60 / settings.send_rate_group,
        )
        stars = StarRefunder(self.bot, self.session_factory)
        self.timekeeper = Timekeeper(
            self.session_factory,
            after_tick=stars.run if settings.payment_currency == STARS else None,
        )
        self.effects.subscribe(self._on_committed)
        self.monitor = BroadcastMonitor(self.bot, self.session_factory, self._render_progress)
        self.dispatcher = Dispatcher(
            storage=self.fsm_storage(),
            events_isolation=self.event_isolation(),
        )
        setup_middlewares(
            self.dispatcher,
            self.session_factory,
            settings,
            self.catalogs,
            partial(explain, currency=settings.currency),
        )
        self.dispatcher["delivery_log"] = self.delivery_log  # handlers note what Telegram refused
        self.dispatcher.include_routers(*get_routers())
        self.dispatcher.startup.register(self._on_startup)
        self.dispatcher.shutdown.register(self._on_shutdown)
        self._renderer: NoticeRenderer | None = None
        # Stored updates are handled here, whether they came by polling or by the webhook.
        self.runner = UpdateRunner(self.bot, self.dispatcher, self.session_factory)
        self._server: InboxPolling | webhook.WebhookServer | None = None

    def _on_committed(self, effects: Effects) -> None:
        if effects.queued:
            self.sender.wake()
        if effects.posts:
            self.posts.touch(effects.posts)
        if effects.moments:
            self.timekeeper.arm(effects.moments)

    def fsm_storage(self) -> BaseStorage:
        """Dialog state: in the database, or in Redis so every instance sees the same dialog."""
        if self.settings.redis_url is None:
            return DatabaseStorage(self.session_factory)
        return RedisStorage.from_url(
            self.settings.redis_url, key_builder=DefaultKeyBuilder(with_bot_id=True)
        )

    def event_isolation(self) -> BaseEventIsolation:
        """One update per chat and user at a time, across instances when Redis is shared (in one
        process, bot/updates.py already orders them)."""
        if self.settings.redis_url is None:
            return DisabledEventIsolation()
        return LeasedEventIsolation.connect(self.settings.redis_url)

    async def _render(
        self, session: AsyncSession, items: Sequence[OutboxItem], recipient: Recipient
    ) -> list[Part]:
        assert self._renderer is not None, "the sender runs only after start-up"
        return await self._renderer(session, items, recipient)

    def _render_live_post(self, live: LivePost) -> list[Part] | None:
        assert self._renderer is not None, "posts are redrawn only after start-up"
        return self._renderer.live_post(live)

    async def _render_progress(
        self, session: AsyncSession, progress: Progress, recipient: Recipient
    ) -> Part:
        assert self._renderer is not None, "the monitor runs only after start-up"
        return await self._renderer.broadcast_progress(session, progress, recipient)

    async def start_background(self) -> None:
        """The sender and the timekeeper: everything that runs besides answering updates."""
        me = await self.bot.me()
        self._renderer = NoticeRenderer(self.catalogs, self.settings, me.username or "")
        self.delivery_log.start()
        await self.sender.start()
        self.monitor.start()
        await self.timekeeper.start()
        await self.posts.start()

    async def stop_background(self) -> None:
        await self.posts.stop()
        await self.timekeeper.stop()
        await self.monitor.stop()
        await self.sender.stop()
        await self.delivery_log.stop()
        await self.limiter.close()
        if self.shared_budget is not None:
            await self.shared_budget.close()

    async def _on_startup(self) -> None:
        await self.start_background()
        await self._set_commands()
        log.info("tuanbot is up")

    async def _on_shutdown(self) -> None:
        await self.stop_background()
        await self.dispatcher.storage.close()
        await self.dispatcher.fsm.events_isolation.close()
        await self.engine.dispose()
        await self.bot.session.close()
        log.info("tuanbot stopped")

    async def run_polling(self, handle_signals: bool = True) -> None:
        """Serve Telegram by long polling through the inbox until stopped."""
        await self._serve(InboxPolling(self.bot, self.dispatcher, self.runner), handle_signals)

    async def run_webhook(self, handle_signals: bool = True) -> None:
        """Serve Telegram's webhook (WEBHOOK_URL) until stopped."""
        # Several instances share the inbox: each renews the updates it holds.
        self.runner.heartbeat = webhook.HEARTBEAT
        server = webhook.WebhookServer(self.bot, self.dispatcher, self.runner, self.settings)
        await self._serve(server, handle_signals)

    async def run(self, handle_signals: bool = True) -> None:
        """Webhook mode when WEBHOOK_URL is set, else long polling."""
        if self.settings.webhook_url:
            await self.run_webhook(handle_signals)
        else:
            await self.run_polling(handle_signals)

    async def _serve(self, server: InboxPolling | webhook.WebhookServer, signals: bool) -> None:
        self._server = server
        if signals:  # the one place SIGTERM and SIGINT are handled: a graceful stop
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, server.stop)
        await server.run()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    async def _set_commands(self) -> None:
        """Telegram's command menu, in both languages, by place (and the admins' own)."""
        menus: list[tuple[object, list[commands.Command]]] = [
            (BotCommandScopeAllPrivateChats(), commands.RESIDENT_PRIVATE),
            (BotCommandScopeAllGroupChats(), commands.RESIDENT_GROUP),
            *(
                (
                    BotCommandScopeChat(chat_id=admin),
                    [*commands.ADMIN, *commands.LEADER, *commands.RESIDENT_PRIVATE],
                )
                for admin in sorted(self.settings.admin_ids)
            ),
        ]
        for scope, entries in menus:
            for language in (None, *LANGUAGES):
                locale = language or self.settings.default_language
                with self.catalogs.context(), self.catalogs.use_locale(locale):
                    menu = _menu(entries)
                try:
                    await self.bot.set_my_commands(
                        menu,
                        scope=scope if scope is not None else BotCommandScopeDefault(),  # type: ignore[arg-type]
                        language_code=language,
                    )
                except TelegramAPIError as error:  # e.g. an admin who never opened the bot
                    log.info("command menu for %s not set: %s", scope, error)


def _menu(entries: list[commands.Command]) -> list[BotCommand]:
    seen: dict[str, BotCommand] = {}
    for name, _args, what in entries:
        seen.setdefault(name, BotCommand(command=name, description=str(what)[:256]))
    return list(seen.values())
