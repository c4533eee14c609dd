"""Where the gettext catalogs are and how they are loaded: `.po` sources, compiled in memory.

The catalogs ship inside the installed package (the `locales` package's data), so the bot runs
from any working directory. No aiogram here: `python -m bot check` loads them quickly.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

import locales
from bot.config import LANGUAGES

LOCALES = Path(locales.__file__).resolve().parent
DOMAIN = "messages"


class CatalogsMissing(Exception):
    """A language's catalog is not where the package should have it."""


def po_path(language: str, path: Path = LOCALES) -> Path:
    return path / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_translations(path: Path = LOCALES) -> dict[str, gettext.GNUTranslations]:
    """Every language's catalog, compiled in memory (no build step, no stale `.mo`)."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for language in LANGUAGES:
        source_path = po_path(language, path)
        try:
            with source_path.open("rb") as source:
                catalog = read_po(source, locale=language)
        except OSError as error:
            raise CatalogsMissing(
                f"the {language} catalog is missing ({source_path}): reinstall tuanbot"
            ) from error
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        translations[language] = gettext.GNUTranslations(compiled)
    return translations
