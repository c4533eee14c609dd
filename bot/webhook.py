"""Webhook mode: Telegram posts each update to `WEBHOOK_URL`; this instance serves it.

A small aiohttp endpoint, on aiogram's public API only: it checks Telegram's secret header, reads
the update, stores it in the inbox and only then answers 200. If the instance dies before that,
Telegram's retry delivers it again — to this instance or another behind the load balancer — and
a join is never lost; stored twice, it is handled once (the inbox keys on update_id). A 500 when
the database is away makes Telegram retry. The update is handled after the answer, by the same
`UpdateRunner` as polling.

Several instances serve the same bot: each sets the webhook at start (the same URL and secret,
so that is harmless), handles what it receives, renews the age of the updates in its hands every
`HEARTBEAT` seconds, and every `sweep` seconds takes over stored updates nobody finished or
renewed for `STALE` (a killed instance's).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.config import Settings
from bot.updates import UpdateRunner, update_id

log = logging.getLogger(__name__)

HEARTBEAT = 3.0  # seconds between renewals of the updates in hand
# Stored, unfinished and not renewed this long: its instance is gone. Three missed heartbeats, and
# room for a few seconds of clock difference between machines.
STALE = timedelta(seconds=10)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    def __init__(
        self,
        bot: Bot,
        dispatcher: Dispatcher,
        runner: UpdateRunner,
        settings: Settings,
        *,
        sweep: float = 3.0,
    ) -> None:
        assert settings.webhook_url is not None
        assert settings.webhook_secret is not None
        self.bot = bot
        self.dispatcher = dispatcher
        self.runner = runner
        self.settings = settings
        self.sweep = sweep
        self._secret = settings.webhook_secret.get_secret_value()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def application(self) -> web.Application:
        app = web.Application()
        app.router.add_post(self.settings.webhook_path, self._receive)
        app.router.add_get("/healthz", _healthy)
        return app

    async def _receive(self, request: web.Request) -> web.Response:
        """One update from Telegram: answered 200 only once it is stored."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=401, text="unauthorized")
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="not an update")
        number = update_id(payload)
        if number is None:
            return web.Response(status=400, text="not an update")
        # Stored as sent, read at handling: an update aiogram cannot read is answered 200 and
        # set aside, or Telegram would send it again and again and hold back the ones after it.
        try:
            new = await self.runner.store([payload])
        except Exception:
            log.exception("could not store update %s; Telegram will retry", number)
            return web.Response(status=500, text="try again")
        if number in new:
            self.runner.take(payload)
        return web.json_response({})

    async def run(self) -> None:
        settings, bot, dispatcher = self.settings, self.bot, self.dispatcher
        await bot.me()  # a rejected token or unreachable API fails here, before anything runs
        runner = web.AppRunner(self.application(), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await dispatcher.emit_startup(bot=bot)
        self.runner.start()
        sweeper = asyncio.create_task(self._sweep(), name="inbox-sweep")
        try:
            await site.start()
            assert settings.webhook_url is not None
            await bot.set_webhook(
                settings.webhook_url,
                secret_token=self._secret,
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
