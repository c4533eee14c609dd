"""Buttons shared by several audiences, and the Join button's callback data."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.formatting import clip

BUTTON_NAME = 24  # characters of an item name on its Join button


class JoinButton(CallbackData, prefix="j"):
    """A drop post's Join button: "j:<group_buy_id>", far below Telegram's 64 bytes."""

    group_buy_id: int


class DetailsButton(CallbackData, prefix="d"):
    """A drop post's Details button: the item's photos and description, privately."""

    group_buy_id: int


def details_button(group_buy_id: int, number: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("ℹ️ Details #{number}").format(number=number),
        callback_data=DetailsButton(group_buy_id=group_buy_id).pack(),
    )


def start_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def start_keyboard(bot_username: str, payload: str) -> InlineKeyboardMarkup:
    """A button that opens the private chat with the bot and continues with `payload`."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("💬 Open a private chat with me"),
                    url=start_link(bot_username, payload),
                )
            ]
        ]
    )


def join_button(group_buy_id: int, number: int, name: str) -> InlineKeyboardButton:
    short = clip(name, BUTTON_NAME)
    return InlineKeyboardButton(
        text=_("🛒 Join #{number} {name}").format(number=number, name=short),
        callback_data=JoinButton(group_buy_id=group_buy_id).pack(),
    )
