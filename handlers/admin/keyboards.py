"""The admins' buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _


class StopBroadcast(CallbackData, prefix="bstop"):
    broadcast_id: int


def stop_broadcast(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("⏹ Stop the broadcast"),
                    callback_data=StopBroadcast(broadcast_id=broadcast_id).pack(),
                )
            ]
        ]
    )
