"""The pickup point record: `/setpoint key=value …` (or free text), or a dialog, field by field.

In a group a bot only sees commands, so the dialog runs in the private chat: `/setpoint` alone in
the group offers a button that opens it there.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import esc
from bot.services.community import communities
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.kernel.errors import NotAllowed
from bot.services.pickup.point import checked_value, parse_fields
from handlers.keyboards import start_keyboard
from handlers.leader.scope import led_community
from handlers.texts.pickup import point

ORDER = [
    "province",
    "city",
    "district",
    "address",
    "location",
    "hours",
    "contact",
    "phone",
    "route",
    "region",
    "notes",
    "link",
]


class PointDialog(StatesGroup):
    asking = State()


def _question(key: str) -> str:
    return {
        "province": _("Province?"),
        "city": _("City?"),
        "district": _("District?"),
        "address": _("Street address of the pickup point?"),
        "hours": _("Opening hours (e.g. 8:00-20:00)?"),
        "contact": _("Contact name at the pickup point?"),
        "phone": _("Phone number?"),
        "route": _("Delivery route (the platform's, e.g. North-2)?"),
        "region": _("Region?"),
        "notes": _("Anything else residents should know (e.g. the locker code)?"),
        "location": _(
            "Where exactly is it? Send its location pin (📎 → Location), or latitude,longitude."
        ),
        "link": _("The group's invite link, for neighbours who find the point nearby?"),
    }[key]


def _current(where: CommunityRef, key: str) -> str | None:
    if key == "location":
        return "{:.6f},{:.6f}".format(*where.location) if where.location else None
    if key == "link":
        return where.invite_link
    value: str | None = getattr(where.point, key)
    return value


def record(where: CommunityRef) -> str:
    """The whole record, a line a field."""
    labels = {
        "province": _("province"),
        "city": _("city"),
        "district": _("district"),
        "address": _("address"),
        "hours": _("hours"),
        "contact": _("contact"),
        "phone": _("phone"),
        "route": _("route"),
        "region": _("region"),
        "notes": _("notes"),
        "location": _("location"),
        "link": _("invite link"),
    }
    lines = [_("📍 Pickup point of <b>{community}</b>:").format(community=esc(where.name))]
    lines += [f"{labels[key]}: {esc(_current(where, key) or '—')}" for key in ORDER]
    lines.append(_("Residents see: {point}").format(point=point(where.point)))
    return "\n".join(lines)


async def set_point(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    actor: Actor,
    community: CommunityRef | None,
    leads: tuple[CommunityRef, ...],
    state: FSMContext,
) -> None:
    where = led_community(message, actor, community, leads)
    text = (command.args or "").strip()
    if text:
        await message.reply(
            record(await communities.update_point(session, actor, where, parse_fields(text)))
        )
        return
    if message.chat.type != "private":
        me = await bot.me()
        await message.reply(
            _("Let's fill in the pickup point in a private chat, one question at a time."),
            reply_markup=start_keyboard(me.username or "", f"point-{where.id}"),
        )
        return
    await _begin(message, where, state)


async def _begin(message: Message, where: CommunityRef, state: FSMContext) -> None:
    await state.set_state(PointDialog.asking)
    await state.update_data(community_id=where.id, name=where.name, step=0, changes={})
    await message.answer(
        _(
            "📍 The pickup point of <b>{community}</b>, one question at a time. "
            "Send the answer, <code>.</code> to keep what is there, <code>-</code> to clear it, "
            "/done to save now, /cancel to stop without saving."
        ).format(community=esc(where.name))
    )
    await _ask(message, where, ORDER[0])


async def _ask(message: Message, where: CommunityRef | None, key: str) -> None:
    now = _current(where, key) if where else None
    suffix = _(" (now: {value})").format(value=esc(now)) if now else ""
    await message.answer(_question(key) + suffix)


async def begin_from_link(
    message: Message,
    command: CommandObject,
    actor: Actor,
    leads: tuple[CommunityRef, ...],
    state: FSMContext,
) -> None:
    """/start point-<community>: the button from the group opened the private chat."""
    community_id = int((command.args or "").removeprefix("point-") or 0)
    where = next((c for c in leads if c.id == community_id), None)
    if where is None:
        raise NotAllowed("leader")
    await _begin(message, where, state)


async def answer(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    leads: tuple[CommunityRef, ...],
    state: FSMContext,
) -> None:
    data = await state.get_data()
    step: int = data["step"]
    key = ORDER[step]
    value = (message.text or "").strip()
    if message.location is not None:
        if key != "location" or message.location.live_period:
            await message.answer(_("Not now: send a one-off location pin at the location step."))
            return
        value = f"{message.location.latitude},{message.location.longitude}"
    if value != ".":
        # Checked now, so a wrong answer is asked again rather than spoiling the others at /done.
        checked_value(key, value)
        data["changes"][key] = value
    if step + 1 < len(ORDER):
        await state.update_data(step=step + 1, changes=data["changes"])
        where = next((c for c in leads if c.id == data["community_id"]), None)
        await _ask(message, where, ORDER[step + 1])
        return
    await _save(message, session, actor, leads, state, data)


async def done(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    leads: tuple[CommunityRef, ...],
    state: FSMContext,
) -> None:
    await _save(message, session, actor, leads, state, await state.get_data())


async def stop(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Stopped: the pickup point is unchanged."))


async def _save(
    message: Message,
    session: AsyncSession,
    actor: Actor,
    leads: tuple[CommunityRef, ...],
    state: FSMContext,
    data: dict[str, object],
) -> None:
    await state.clear()
    where = next((c for c in leads if c.id == data["community_id"]), None)
    if where is None:
        raise NotAllowed("leader")
    changes = data["changes"]
    assert isinstance(changes, dict)
    saved = await communities.update_point(session, actor, where, changes)
    await message.answer(_("✅ Saved.") + "\n" + record(saved))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    # While the dialog runs, its commands win over the usual ones (/cancel leaves an item).
    router.message.register(stop, StateFilter(PointDialog.asking), Command("cancel"))
    router.message.register(done, StateFilter(PointDialog.asking), Command("done"))
    router.message.register(
        answer, StateFilter(PointDialog.asking), F.text, ~F.text.startswith("/")
    )
    router.message.register(answer, StateFilter(PointDialog.asking), F.location)
    router.message.register(
        begin_from_link, CommandStart(deep_link=True, magic=F.args.regexp(r"^point-\d+$"))
    )
    router.message.register(set_point, Command("setpoint"))
    return router
