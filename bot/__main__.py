"""`python -m bot` — run tuanbot (long polling). Also: `migrate`, `check`, `i18n`.

Bad or missing settings stop it at once with one line naming the setting, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pydantic import ValidationError

from bot.config import Settings, describe_error


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        print(f"tuanbot: {describe_error(error)}", file=sys.stderr)
        raise SystemExit(2) from None


def _migrate(url: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.migrate import upgrade

    try:
        upgrade(url)
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"tuanbot: cannot use DATABASE_URL: {reason}", file=sys.stderr)
        raise SystemExit(2) from None


def run() -> None:
    from bot.app import TuanBot

    settings = _settings()
    _migrate(settings.database_url)
    asyncio.run(TuanBot(settings).run_polling())


def migrate() -> None:
    settings = _settings()
    _migrate(settings.database_url)
    print("tuanbot: database is up to date")


def check() -> None:
    """Validate the settings and reach the database, without starting the bot."""
    settings = _settings()
    _migrate(settings.database_url)
    print("tuanbot: settings are valid and the database is reachable")


def update_catalogs() -> None:
    """Developers: extract messages from the code into locales/messages.pot and merge them into
    every language's messages.po (translations are then filled in by hand)."""
    from bot.i18n import update_catalogs as update

    update()
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
    {"run": run, "migrate": migrate, "check": check, "i18n": update_catalogs}[args.command]()


if __name__ == "__main__":
    main()
