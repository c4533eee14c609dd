"""Applications to lead a pickup point: /applications lists the open ones; the Approve / Reject
buttons under each (sent to every admin) decide it — the first press wins."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import esc
from bot.services.community import recruiting
from bot.services.community.people import Actor
from bot.services.notices import LeaderApplicationNotice
from handlers.admin.keyboards import DecideApplication, decide_application
from handlers.parsing import need_private
from handlers.texts.community import application


async def list_open(message: Message, session: AsyncSession, actor: Actor) -> None:
    need_private(message, "applications")
    waiting = await recruiting.open_applications(session, actor)
    if not waiting:
        await message.answer(_("No application is waiting."))
        return
    await message.answer(_("🙋 {count} waiting, oldest first:").format(count=len(waiting)))
    for filed in waiting:
        text = application(
            LeaderApplicationNotice(
                application_id=filed.id,
                user_id=filed.user_id,
                applicant=filed.applicant,
                place=filed.place,
                address=filed.address,
                phone=filed.phone,
                about=filed.about,
                latitude=filed.location.lat if filed.location else None,
                longitude=filed.location.lon if filed.location else None,
            )
        )
        await message.answer(text, reply_markup=decide_application(filed.id))


async def decide(
    callback: CallbackQuery,
    callback_data: DecideApplication,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
) -> None:
    decided = await recruiting.decide(
        session, actor, callback_data.application_id, callback_data.approve, now
    )
    outcome = (
        _("✅ Approved: {name} may now /register a group for {place}.")
        if callback_data.approve
        else _("❌ Rejected: {name}, {place}.")
    ).format(name=esc(decided.applicant), place=esc(decided.place))
    await callback.answer(_("Done: the applicant is told."))
    if isinstance(callback.message, Message) and callback.message.html_text:
        await callback.message.edit_text(
            callback.message.html_text + "\n\n" + outcome, reply_markup=None
        )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(list_open, Command("applications"))
    router.callback_query.register(decide, DecideApplication.filter())
    return router
