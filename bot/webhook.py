"""Webhook mode: Telegram posts each update to `WEBHOOK_URL`; this instance serves it.

Built on aiogram's aiohttp integration (its request handler checks the secret token). An update
is acknowledged (200) only once it is stored in the inbox, so if the instance dies before that,
Telegram's retry delivers it again — to this instance or another behind the load balancer — and a
join is never lost; stored twice, it is handled once (the inbox keys on update_id). A 500 when
the database is away makes Telegram retry.

Several instances serve the same bot: each sets the webhook at start (the same URL and secret,
so that is harmless), handles what it receives, renews the age of the updates in its hands every
`HEARTBEAT` seconds, and every `sweep` seconds takes over stored updates nobody finished or
renewed for `STALE` (a killed instance's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.polling import stop_on_signals
from bot.updates import UpdateRunner

if TYPE_CHECKING:
    from aiogram import Bot

    from bot.app import TuanBot

log = logging.getLogger(__name__)

HEARTBEAT = 3.0  # seconds between renewals of the updates in hand
# Stored, unfinished and not renewed this long: its instance is gone. Three missed heartbeats, and
# room for a few seconds of clock difference between machines.
STALE = timedelta(seconds=10)


class InboxRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler, storing each update in the inbox before answering."""

    def __init__(self, app: TuanBot, runner: UpdateRunner, secret: str) -> None:
        super().__init__(app.dispatcher, app.bot, handle_in_background=True, secret_token=secret)
        self.runner = runner

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        try:
            payload: dict[str, Any] = await request.json(loads=bot.session.json_loads)
            update = Update.model_validate(payload, context={"bot": bot})
        except ValueError:
            return web.Response(status=400, text="not an update")
        try:
            new = await self.runner.store([update])
        except Exception:
            log.exception("could not store update %s; Telegram will retry", update.update_id)
            return web.Response(status=500, text="try again")
        if update.update_id in new:
            self.runner.spawn(update)
        return web.json_response({})

    async def close(self) -> None:
        """The bot's session is closed at shutdown by the app, not here."""


class WebhookServer:
    def __init__(self, app: TuanBot, *, sweep: float = 3.0, drain_seconds: float = 10.0) -> None:
        self.app = app
        self.sweep = sweep
        self.runner = UpdateRunner(app, drain_seconds=drain_seconds, heartbeat=HEARTBEAT)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, handle_signals: bool = True) -> None:
        settings, bot, dispatcher = self.app.settings, self.app.bot, self.app.dispatcher
        assert settings.webhook_url is not None
        assert settings.webhook_secret is not None
        await bot.me()  # a rejected token or unreachable API fails here, before anything runs
        if handle_signals:
            stop_on_signals(self.stop)
        secret = settings.webhook_secret.get_secret_value()
        web_app = web.Application()
        InboxRequestHandler(self.app, self.runner, secret).register(
            web_app, path=settings.webhook_path
        )
        web_app.router.add_get("/healthz", _healthy)
        runner = web.AppRunner(web_app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await dispatcher.emit_startup(bot=bot)
        self.runner.start()
        sweeper = asyncio.create_task(self._sweep(), name="inbox-sweep")
        try:
            await site.start()
            await bot.set_webhook(
                settings.webhook_url,
                secret_token=secret,
                allowed_updates=dispatcher.resolve_used_update_types(),
                drop_pending_updates=False,
            )
            log.info("serving the webhook on %s:%s", settings.webhook_host, settings.webhook_port)
            await self._stopping.wait()
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await site.stop()  # no new requests: Telegram retries them elsewhere
            await self.runner.stop()
            await runner.cleanup()
            await dispatcher.emit_shutdown(bot=bot)

    async def _sweep(self) -> None:
        await self.runner.recover(STALE)
        while True:
            await asyncio.sleep(self.sweep)
            try:
                await self.runner.recover(STALE)
            except Exception:
                log.exception("could not look for unfinished updates")


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok")
