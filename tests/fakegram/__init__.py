"""A local Bot API server that behaves like Telegram, for end-to-end tests and benchmarks."""

from bot.sandbox.telegram import (
    BOT_ID,
    TOKEN,
    CallbackQuery,
    FakeChat,
    FakeTelegram,
    FakeUser,
    Fault,
    Limits,
    Message,
)

__all__ = [
    "BOT_ID",
    "TOKEN",
    "CallbackQuery",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "Fault",
    "Limits",
    "Message",
]
