"""gettext catalogs (locales/<lang>/LC_MESSAGES/messages.po) and who reads which language.

The `.po` files are compiled in memory at start-up, so there is no build step and no stale `.mo`.
Groups speak their community's language; private chats follow the user's /lang choice, then their
Telegram language, then DEFAULT_LANGUAGE.
"""

from __future__ import annotations

import contextvars
import gettext
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.catalogs import DOMAIN, LOCALES, load_translations, po_path
from bot.config import LANGUAGES

__all__ = [
    "LOCALES",
    "Catalogs",
    "extract_messages",
    "private_language",
    "telegram_language",
    "update_catalogs",
]


class Catalogs(I18n):
    """aiogram's I18n, loading `.po` sources instead of compiled `.mo` files."""

    def __init__(self, default_locale: str, path: Path = LOCALES) -> None:
        super().__init__(path=path, default_locale=default_locale, domain=DOMAIN)

    # aiogram's context mixin gives every subclass its own context variable, but gettext() looks
    # up I18n's: register as I18n so `_()` finds this instance.
    @classmethod
    def set_current(cls, value: I18n) -> contextvars.Token[I18n]:
        return I18n.set_current(value)

    @classmethod
    def reset_current(cls, token: contextvars.Token[I18n]) -> None:
        I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        return load_translations(self.path)


def telegram_language(code: str | None) -> str | None:
    """Map Telegram's language_code ("zh-hans", "en-GB", …) to one of ours, if we speak it."""
    if not code:
        return None
    base = code.lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else None


def private_language(chosen: str | None, telegram_code: str | None, default: str) -> str:
    return chosen or telegram_language(telegram_code) or default


SOURCES = ("bot", "handlers", "scheduler")
KEYWORDS = {"_": None, "__": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def extract_messages() -> Catalog:
    """Every translatable message in the code, as a template catalog."""
    root = LOCALES.parent
    template = Catalog(project="tuanbot", version="0.1", charset="utf-8")
    for folder in SOURCES:
        for filename, lineno, message, comments, _context in extract_from_dir(
            root / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message, locations=[(f"{folder}/{filename}", lineno)], auto_comments=comments
            )
    return template


def update_catalogs() -> None:
    """Write locales/messages.pot and merge it into each language's messages.po."""
    template = extract_messages()
    with (LOCALES / "messages.pot").open("wb") as out:
        write_po(out, template, sort_output=True, include_lineno=False)
    for language in LANGUAGES:
        path = po_path(language)
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
            write_po(out, catalog, sort_output=True, ignore_obsolete=True, include_lineno=False)
