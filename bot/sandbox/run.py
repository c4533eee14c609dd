"""`python -m bot sandbox`: the local Telegram, the bot against it, and the page, in one process.

Safe by design: the bot's settings are made here, not read from the environment or `.env`, so it
talks only to the local server and writes only to the sandbox's own SQLite file. That file is
marked as the sandbox's (SQLite's `application_id`); a file there without the mark is refused,
so a production database copied or linked into its place is never written to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sqlite3
import sys
import webbrowser
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.config import Language, Settings
from bot.migrate import upgrade
from bot.sandbox import world as worlds
from bot.sandbox.telegram import TOKEN, FakeTelegram, Limits
from bot.sandbox.tour import Tour
from bot.sandbox.web import SandboxPage

log = logging.getLogger(__name__)

MARK = 0x7475616E  # "tuan": SQLite's application_id of a sandbox database
DATABASE = "sandbox.sqlite3"
TELEGRAM = "sandbox-telegram.pickle"
WORLD = "sandbox-world.json"


class NotTheSandboxDatabase(Exception):
    """The database file is there but is not one the sandbox made."""


@dataclass(frozen=True)
class Options:
    data: Path = Path("data")
    port: int = 8088
    fresh: bool = False
    language: Language = "en"
    browser: bool = True
    tour_deadline: str = "+1m"  # how long after posting the tour's drop closes
    tour_pause: float = 2.5  # seconds between the tour's steps


def claim_database(path: Path) -> None:
    """Make sure `path` is the sandbox's own SQLite file (create and mark it if absent)."""
    if path.exists():
        with contextlib.closing(sqlite3.connect(path)) as db:
            try:
                mark = db.execute("PRAGMA application_id").fetchone()[0]
            except sqlite3.DatabaseError:
                raise NotTheSandboxDatabase(f"{path} is not an SQLite database") from None
        if mark != MARK:
            raise NotTheSandboxDatabase(f"{path} was not made by the sandbox")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA application_id = {MARK}")
        db.commit()


def sandbox_settings(
    telegram_url: str, database: Path, admin_id: int, language: Language
) -> Settings:
    """The bot's settings, all given here: nothing from the environment can point it elsewhere."""
    return Settings(
        _env_file=None,
        bot_token=SecretStr(TOKEN),
        telegram_api_url=telegram_url,
        database_url=f"sqlite+aiosqlite:///{database.resolve()}",
        admin_ids=frozenset({admin_id}),
        default_language=language,
        timezone="Asia/Shanghai",
        currency="¥",
        webhook_url=None,
        webhook_secret=None,
        redis_url=None,
    )


class Sandbox:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.data = options.data
        self.telegram = FakeTelegram(limits=Limits())
        self.page: SandboxPage | None = None
        self.url = ""
        self._dirty = False

    async def run(
        self, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
    ) -> None:
        from bot.app import TuanBot  # aiogram takes a while to import: only when running

        options = self.options
        database = self.data / DATABASE
        claim_database(database)  # before anything is removed: only ever the sandbox's own
        if options.fresh:
            for name in (DATABASE, TELEGRAM, WORLD):
                with contextlib.suppress(FileNotFoundError):
                    (self.data / name).unlink()
            claim_database(database)
        restored = self._restore()
        world = restored or worlds.people(self.telegram, options.language)
        self.world = world
        telegram_url = await self.telegram.start()
        settings = sandbox_settings(telegram_url, database, world.admin.id, options.language)
        await asyncio.to_thread(upgrade, settings.database_url)
        app = TuanBot(settings)
        polls = self.telegram.polls
        bot_task = asyncio.create_task(app.run_polling(handle_signals=False), name="sandbox-bot")
        await self.telegram.wait_for(lambda: self.telegram.polls > polls or bot_task.done(), 60)
        if bot_task.done():
            bot_task.result()
        if restored is None:
            await worlds.set_up(world)
        self._save()
        tour = Tour(world, options.language, options.tour_deadline, options.tour_pause)
        self.page = SandboxPage(world, tour, self._changed)
        self.url = await self.page.start(options.port)
        print(f"tuanbot sandbox: open {self.url} (Ctrl-C stops it; kept in {self.data}/)")
        if options.browser and _has_browser():
            webbrowser.open(self.url)
        if ready is not None:
            ready.set()
        stop = stop or _stop_on_signal()
        saver = asyncio.create_task(self._keep_saving(), name="sandbox-saver")
        try:
            await stop.wait()
        finally:
            saver.cancel()
            tour.stop()
            await tour.wait()
            await self.page.stop()
            await app.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(bot_task, 15)
            self._save()
            await self.telegram.stop()

    def _restore(self) -> worlds.World | None:
        telegram, world = self.data / TELEGRAM, self.data / WORLD
        if not telegram.exists() or not world.exists():
            return None
        self.telegram.restore(telegram.read_bytes())
        return worlds.existing(self.telegram, json.loads(world.read_text()))

    def _changed(self) -> None:
        self._dirty = True

    async def _keep_saving(self) -> None:
        """Every few seconds, so a crash loses at most that much of the world."""
        seen = self.telegram.version
        while True:
            await asyncio.sleep(5)
            if self.telegram.version != seen or self._dirty:
                seen, self._dirty = self.telegram.version, False
                self._save()

    def _save(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        for name, content in (
            (TELEGRAM, self.telegram.snapshot()),
            (WORLD, json.dumps(self.world.save()).encode()),
        ):
            temporary = self.data / (name + ".tmp")
            temporary.write_bytes(content)
            temporary.replace(self.data / name)  # whole or not at all


def _has_browser() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _stop_on_signal() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def main(options: Options) -> None:
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line every 15 s is noise here
    try:
        asyncio.run(Sandbox(options).run())
    except NotTheSandboxDatabase as refusal:
        print(
            f"tuanbot sandbox: {refusal}; refusing to use it (remove it, or --fresh)",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    log.info("sandbox stopped")
