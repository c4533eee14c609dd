"""`python -m bot` — run tuanbot (long polling). Also: `migrate`, `check`, `i18n`.

Bad or missing settings stop it at once with one line naming the setting, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

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
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po, write_po

    root = Path(__file__).resolve().parent.parent
    template = Catalog(project="tuanbot", msgid_bugs_address="", charset="utf-8")
    keywords = {"_": None, "__": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
    for folder in ("bot", "handlers", "scheduler"):
        for filename, lineno, message, comments, _context in extract_from_dir(
            root / folder, method_map=[("**.py", "python")], keywords=keywords
        ):
            template.add(
                message, locations=[(f"{folder}/{filename}", lineno)], auto_comments=comments
            )
    with (root / "locales" / "messages.pot").open("wb") as out:
        write_po(out, template, omit_header=False, sort_output=True)
    for language in ("en", "zh"):
        path = root / "locales" / language / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language)
        else:
            catalog = Catalog(locale=language, project="tuanbot", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False  # a fuzzy header is skipped by gettext, losing the plural rule
        catalog.project, catalog.version = "tuanbot", "0.1"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            write_po(out, catalog, sort_output=True, ignore_obsolete=True)
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
