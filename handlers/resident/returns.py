"""/return, in a private chat: pick a picked-up order, describe the problem, send at least 2
photos, /done. The admins decide (handlers/admin/after_sale.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import item_label, local_time, quantity
from bot.services.after_sale import requests
from bot.services.after_sale.requests import MAX_PHOTOS, MAX_REASON, MIN_PHOTOS
from handlers.parsing import need_private

BUTTON_TEXT = 40


class ReturnPick(CallbackData, prefix="ret"):
    order_id: int


class ReturnDialog(StatesGroup):
    describing = State()
    photographing = State()


async def begin(message: Message, session: AsyncSession, now: datetime, settings: Settings) -> None:
    need_private(message, "return")
    assert message.from_user is not None
    candidates = await requests.return_candidates(session, message.from_user.id, now)
    if not candidates:
        await message.answer(_("You have no picked-up orders from the last 30 days to return."))
        return
    tz = ZoneInfo(settings.timezone)
    rows = []
    for order in candidates:
        label = (
            f"#{order.number} {order.name} ×{order.quantity} · {local_time(order.picked_up_at, tz)}"
        )
        if not order.returnable:
            label += " " + _("(no returns)")
        elif now > order.until:
            label += " " + _("(too late)")
        rows.append(
            [
                InlineKeyboardButton(
                    text=label[: BUTTON_TEXT * 2],
                    callback_data=ReturnPick(order_id=order.order_id).pack(),
                )
            ]
        )
    await message.answer(
        _(
            "↩️ Which order do you want to return? Each item can be returned for a while after "
            "pickup (usually 48 hours); some cannot be returned at all."
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def pick(
    callback: CallbackQuery,
    callback_data: ReturnPick,
    session: AsyncSession,
    now: datetime,
    state: FSMContext,
) -> None:
    order = await requests.check_return(session, callback.from_user.id, callback_data.order_id, now)
    await state.set_state(ReturnDialog.describing)
    await state.update_data(order_id=order.order_id, photos=[], reason="")
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            _(
                "↩️ Returning {item} {quantity}. What is wrong with it? Describe it in one message "
                "(/cancel stops)."
            ).format(
                item=item_label(order.number, order.name),
                quantity=quantity(order.quantity, order.unit),
            )
        )


async def describe(message: Message, state: FSMContext) -> None:
    reason = (message.text or "").strip()
    if len(reason) > MAX_REASON:
        await message.answer(
            _("That is too long: {limit} characters at most. Try again.").format(limit=MAX_REASON)
        )
        return
    await state.update_data(reason=reason)
    await state.set_state(ReturnDialog.photographing)
    await message.answer(
        ngettext(
            "Now send at least {count} photo of the problem, then /done.",
            "Now send at least {count} photos of the problem, then /done.",
            MIN_PHOTOS,
        ).format(count=MIN_PHOTOS)
    )


async def words_first(message: Message) -> None:
    await message.answer(_("First describe the problem in words, then send the photos."))


async def photo(message: Message, state: FSMContext) -> None:
    assert message.photo
    data = await state.get_data()
    photos: list[str] = data["photos"]
    if len(photos) >= MAX_PHOTOS:
        await message.answer(
            _("{count} photos is the most I can pass on. Send /done.").format(count=MAX_PHOTOS)
        )
        return
    photos.append(message.photo[-1].file_id)  # the largest size
    await state.update_data(photos=photos)
    await message.answer(
        ngettext(
            "📷 {count} photo received. Send more, or /done.",
            "📷 {count} photos received. Send more, or /done.",
            len(photos),
        ).format(count=len(photos))
    )


async def done(
    message: Message,
    session: AsyncSession,
    now: datetime,
    state: FSMContext,
    settings: Settings,
) -> None:
    assert message.from_user is not None
    data = await state.get_data()
    photos: list[str] = data["photos"]
    if len(photos) < MIN_PHOTOS:
        await message.answer(
            _("Send at least {need} photos first (you sent {got}).").format(
                need=MIN_PHOTOS, got=len(photos)
            )
        )
        return
    asked = await requests.request_return(
        session,
        message.from_user.id,
        data["order_id"],
        data["reason"],
        photos,
        settings.admin_ids,
        now,
    )
    await state.clear()
    await message.answer(
        _(
            "📨 Return request {id} for {item} sent to the platform with {count} photos. "
            "I will tell you their decision."
        ).format(id=asked.request_id, item=item_label(asked.number, asked.name), count=len(photos))
    )


async def stop(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Stopped: no return was requested."))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    dialog = StateFilter(ReturnDialog.describing, ReturnDialog.photographing)
    router.message.register(stop, dialog, Command("cancel"))
    router.message.register(done, StateFilter(ReturnDialog.photographing), Command("done"))
    router.message.register(
        describe, StateFilter(ReturnDialog.describing), F.text, ~F.text.startswith("/")
    )
    router.message.register(words_first, StateFilter(ReturnDialog.describing), F.photo)
    router.message.register(photo, StateFilter(ReturnDialog.photographing), F.photo)
    router.message.register(begin, Command("return"))
    router.callback_query.register(pick, ReturnPick.filter())
    return router
