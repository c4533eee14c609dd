"""The local Bot API server behaves like Telegram where the bot depends on it.

Checked through aiogram's own client, so every object it returns must also parse as aiogram's
types (complete Message objects).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox.html import EntityParseError, parse_html
from tests.fakegram import TOKEN, FakeTelegram, Fault, Limits


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    telegram = FakeTelegram(limits=Limits(enforced=False))
    await telegram.start()
    yield telegram
    await telegram.stop()


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url))
    client = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    yield client
    await client.session.close()


def test_html_becomes_text_and_entities() -> None:
    text, entities = parse_html('<b>Eggs</b> &lt;big&gt; &amp; <a href="https://x.y">more</a> 🥚')
    assert text == "Eggs <big> & more 🥚"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.y"},
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "Eggs <free-range>",
        "a & b",
        "<b>open",
        "<b><i>x</b></i>",
        "</b>",
        "<a>x</a>",
        "<span>x</span>",
    ],
)
def test_html_that_telegram_refuses(bad: str) -> None:
    with pytest.raises(EntityParseError, match="can't parse entities"):
        parse_html(bad)


async def test_messages_are_complete_and_validated(server: FakeTelegram, bot: Bot) -> None:
    user = server.user("Alice")
    await server.start_bot(user)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Join", callback_data="j:1")]]
    )
    sent = await bot.send_message(user.id, "<b>Hi</b> &amp; welcome", reply_markup=markup)
    assert sent.text == "Hi & welcome"
    assert sent.entities is not None and sent.entities[0].type == "bold"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "j:1"
    assert sent.chat.id == user.id

    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(user.id, "Eggs <free-range>")
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.send_message(user.id, "x" * 4097)
    await bot.send_message(user.id, "x" * 4096)
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Join", callback_data="j" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "x", reply_markup=too_long)
    edited = await bot.edit_message_text(
        "<i>changed</i>", chat_id=user.id, message_id=sent.message_id
    )
    assert edited.text == "changed"  # type: ignore[union-attr]
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_text("<i>changed</i>", chat_id=user.id, message_id=sent.message_id)


async def test_private_messages_need_a_started_chat(server: FakeTelegram, bot: Bot) -> None:
    stranger = server.user("Bob")
    with pytest.raises(TelegramForbiddenError, match="can't initiate"):
        await bot.send_message(stranger.id, "hello")
    await server.start_bot(stranger)
    await bot.send_message(stranger.id, "hello")
    server.block(stranger)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(stranger.id, "hello")


async def test_groups_need_the_bot_in_them(server: FakeTelegram, bot: Bot) -> None:
    admin = server.user("Ada")
    group = server.group("Sunny", [admin])
    with pytest.raises(TelegramForbiddenError, match="not a member"):
        await bot.send_message(group.id, "hello")
    await server.add_bot(group, admin)
    await bot.send_message(group.id, "hello")
    await server.remove_bot(group, admin)
    with pytest.raises(TelegramForbiddenError, match="kicked"):
        await bot.send_message(group.id, "hello")


async def test_rate_limits_answer_429_with_retry_after(bot: Bot) -> None:
    telegram = FakeTelegram(limits=Limits())  # Telegram's own: 20 a minute in a group
    await telegram.start()
    try:
        admin = telegram.user("Ada")
        group = telegram.group("Sunny", [admin])
        await telegram.add_bot(group, admin)
        session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.url))
        client = Bot(TOKEN, session=session)
        for n in range(20):
            await client.send_message(group.id, f"message {n}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await client.send_message(group.id, "one too many")
        assert 1 <= caught.value.retry_after <= 60
        await client.session.close()
    finally:
        await telegram.stop()


async def test_injected_faults(server: FakeTelegram, bot: Bot) -> None:
    user = server.user("Alice")
    await server.start_bot(user)
    server.faults.append(Fault(method="sendMessage", status=502))
    with pytest.raises(TelegramServerError):
        await bot.send_message(user.id, "hello")
    server.faults.append(Fault(method="sendMessage", status=429, retry_after=3))
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(user.id, "hello")
    server.faults.append(Fault(method="sendMessage", status="drop"))
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(user.id, "hello")
    await bot.send_message(user.id, "and then it works")
