"""/apply: a resident applies to lead a new pickup point, one question at a time (/cancel stops).

The answers live in the dialog's state until the last one; only then is the application filed
(services/community/recruiting.py) and sent to the admins.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import esc
from bot.services.community import recruiting
from bot.services.community.people import UserRef
from bot.services.kernel.errors import BadLocation
from bot.services.pickup.point import Location
from handlers.parsing import need_private
from handlers.resident.nearby import share_location_keyboard

STEPS = ["place", "address", "location", "phone", "about"]


class ApplyDialog(StatesGroup):
    asking = State()


def _question(key: str) -> str:
    return {
        "place": _("What is the pickup point called (your shop, building or compound)?"),
        "address": _("Its street address?"),
        "location": _("Where exactly is it? Send its location pin (the button, or 📎 → Location)."),
        "phone": _("A phone number residents and the platform can call?"),
        "about": _("One line about yourself: why you would run it?"),
    }[key]


async def begin(message: Message, session: AsyncSession, user: UserRef, state: FSMContext) -> None:
    need_private(message, "apply")
    await recruiting.may_apply(session, user.id)
    await state.set_state(ApplyDialog.asking)
    await state.update_data(step=0, answers={})
    await message.answer(
        _(
            "🙋 <b>Lead a pickup point</b> (团长招募): five questions, then the platform decides. "
            "/cancel stops at any time."
        )
    )
    await message.answer(_question(STEPS[0]))


async def answer(
    message: Message,
    session: AsyncSession,
    now: datetime,
    user: UserRef,
    settings: Settings,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    step: int = data["step"]
    key = STEPS[step]
    answers: dict[str, object] = data["answers"]
    if key == "location":
        answers[key] = _location(message)
    else:
        if message.text is None:
            await message.answer(_question(key))
            return
        answers[key] = recruiting.check_answer(key, message.text)
    if step + 1 < len(STEPS):
        await state.update_data(step=step + 1, answers=answers)
        following = STEPS[step + 1]
        keyboard = share_location_keyboard() if following == "location" else ReplyKeyboardRemove()
        await message.answer(_question(following), reply_markup=keyboard)
        return
    await state.clear()
    pin = answers.pop("location")
    assert isinstance(pin, list)
    filed = await recruiting.apply(
        session,
        user,
        {k: str(v) for k, v in answers.items()},
        Location(pin[0], pin[1]),
        settings.admin_ids,
        now,
    )
    await message.answer(
        _(
            "📨 Application {id} for <b>{place}</b> is with the platform; you will hear from me."
        ).format(id=filed.id, place=esc(filed.place))
    )


def _location(message: Message) -> list[float]:
    """The pin of the location step (a one-off pin, or latitude,longitude typed)."""
    if message.location is not None:
        if message.venue is not None or message.location.live_period:
            raise BadLocation(_("a venue or a live location"))
        where = Location.checked(message.location.latitude, message.location.longitude)
    else:
        where = Location.parse(message.text or "")
    if where is None:
        raise BadLocation(message.text or "")
    return [where.lat, where.lon]


async def stop(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Stopped: nothing was sent."), reply_markup=ReplyKeyboardRemove())


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    # While the dialog runs, its /cancel and its answers win over the usual handlers.
    router.message.register(stop, StateFilter(ApplyDialog.asking), Command("cancel"))
    router.message.register(
        answer,
        StateFilter(ApplyDialog.asking),
        F.chat.type == "private",
        (F.text & ~F.text.startswith("/")) | F.location,
    )
    router.message.register(begin, Command("apply"))
    return router
