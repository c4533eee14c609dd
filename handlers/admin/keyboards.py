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


class DecideApplication(CallbackData, prefix="ap"):
    """Approve or reject an application to lead a point: "ap:<application_id>:<1|0>"."""

    application_id: int
    approve: bool


def decide_buttons(request_id: int) -> InlineKeyboardMarkup:
    return _approve_or_reject(
        Decide(request_id=request_id, approve=True), Decide(request_id=request_id, approve=False)
    )


def decide_application(application_id: int) -> InlineKeyboardMarkup:
    return _approve_or_reject(
        DecideApplication(application_id=application_id, approve=True),
        DecideApplication(application_id=application_id, approve=False),
    )


def _approve_or_reject(approve: CallbackData, reject: CallbackData) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Approve"), callback_data=approve.pack()),
                InlineKeyboardButton(text=_("❌ Reject"), callback_data=reject.pack()),
            ]
        ]
    )
