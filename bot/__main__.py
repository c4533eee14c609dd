"""`python -m bot` — run tuanbot (long polling). Also: `migrate`, `check`, `i18n`.

Bad or missing settings stop it at once with one line naming the setting, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING, NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings, describe_error
from bot.migrate import upgrade

if TYPE_CHECKING:
    from bot.app import TuanBot

# aiogram takes ~2 s to import: only `run` and `i18n` load it, so `check` answers at once.


def _stop(reason: str) -> NoReturn:
    print(f"tuanbot: {reason}", file=sys.stderr)
    raise SystemExit(2)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        _stop(describe_error(error))


def _migrate(url: str) -> None:
    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        _stop(f"cannot use DATABASE_URL: {reason}")


async def _serve(app: TuanBot) -> None:
    try:
        await app.run_polling()
    finally:
        await app.bot.session.close()
        await app.engine.dispose()


def run() -> None:
    from aiogram.exceptions import TelegramNetworkError, TelegramNotFound, TelegramUnauthorizedError

    from bot.app import TuanBot

    settings = _settings()
    _migrate(settings.database_url)
    try:
        asyncio.run(_serve(TuanBot(settings)))
    except TelegramUnauthorizedError:
        _stop("BOT_TOKEN was rejected by Telegram (401 Unauthorized)")
    except TelegramNotFound:
        _stop(f"TELEGRAM_API_URL {settings.telegram_api_url} does not serve the Bot API (404)")
    except TelegramNetworkError as error:
        _stop(f"cannot reach TELEGRAM_API_URL {settings.telegram_api_url}: {error.message}")


def migrate() -> None:
    _migrate(_settings().database_url)
    print("tuanbot: database is up to date")


def check() -> None:
    """Validate the settings and reach the database, without starting the bot."""
    _migrate(_settings().database_url)
    print("tuanbot: settings are valid and the database is reachable")


def i18n() -> None:
    """Developers: extract messages from the code into locales/messages.pot and merge them into
    every language's messages.po (translations are then filled in by hand)."""
    from bot.i18n import update_catalogs

    update_catalogs()
    print("tuanbot: catalogs updated; fill in the empty translations in locales/*/LC_MESSAGES")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="tuanbot")
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "migrate", "check", "i18n"],
        help="run (default): migrate and serve; migrate; check settings; i18n: update catalogs",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # one line per update is noise
    {"run": run, "migrate": migrate, "check": check, "i18n": i18n}[args.command]()


if __name__ == "__main__":
    main()
