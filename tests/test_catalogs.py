"""The gettext catalogs: complete, and every translation keeps what the code relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, Catalogs, extract_messages
from bot.sandbox.html import parse_html

PLACEHOLDER = re.compile(r"\{(\w+)\}")
TAG = re.compile(r"</?[a-z-]+")
COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")


def load(language: str):  # type: ignore[no-untyped-def]
    with Path(LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=language)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_message_in_the_code_is_in_the_catalog(language: str) -> None:
    in_code = {m.id for m in extract_messages() if m.id}
    in_catalog = {m.id for m in load(language) if m.id}
    missing = in_code - in_catalog
    assert not missing, f"run `python -m bot i18n`, then translate: {sorted(map(str, missing))}"


def test_every_chinese_message_is_translated_and_not_fuzzy() -> None:
    catalog = load("zh")
    assert not catalog.fuzzy
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string]))
    ]
    assert not untranslated


def _pairs():  # type: ignore[no-untyped-def]
    for message in load("zh"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in ids:
            for translation in strings:
                yield source, translation


def test_translations_keep_placeholders_tags_and_commands() -> None:
    for source, translation in _pairs():
        assert set(PLACEHOLDER.findall(source)) == set(PLACEHOLDER.findall(translation)), source
        assert sorted(TAG.findall(source)) == sorted(TAG.findall(translation)), source
        assert set(COMMAND.findall(source)) <= set(COMMAND.findall(translation)), source


def test_every_translation_is_valid_telegram_html() -> None:
    for source, translation in _pairs():
        values = dict.fromkeys(PLACEHOLDER.findall(source), "x")
        for text in (source, translation):
            parse_html(text.format(**values))  # raises on broken markup


def test_catalogs_load_and_translate() -> None:
    catalogs = Catalogs("zh")
    assert catalogs.gettext("Only platform admins can do that.", locale="zh") == (
        "只有平台管理员可以这样做。"
    )
    plural = catalogs.gettext(
        "{members}/{minimum} member", "{members}/{minimum} members", 5, locale="zh"
    )
    assert plural == "{members}/{minimum} 人"
    assert (
        catalogs.gettext(
            "{members}/{minimum} member", "{members}/{minimum} members", 5, locale="en"
        )
        == "{members}/{minimum} members"
    )
