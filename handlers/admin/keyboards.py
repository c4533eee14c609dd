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


class Decide(CallbackData, prefix="as"):
    """Approve or reject an after-sale request: "as:<request_id>:<1|0>"."""

    request_id: int
    approve: bool


def decide_buttons(request_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("✅ Approve"),
                    callback_data=Decide(request_id=request_id, approve=True).pack(),
                ),
                InlineKeyboardButton(
                    text=_("❌ Reject"),
                    callback_data=Decide(request_id=request_id, approve=False).pack(),
                ),
            ]
        ]
    )
