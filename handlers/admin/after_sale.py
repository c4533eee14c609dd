"""The admins' Approve / Reject buttons on cancellation and return requests."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import esc, item_label
from bot.services.after_sale import requests
from bot.services.community.people import Actor
from handlers.admin.keyboards import Decide
from models import RequestKind


async def decide(
    callback: CallbackQuery,
    callback_data: Decide,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
) -> None:
    decision = await requests.decide(
        session, actor, callback_data.request_id, callback_data.approve, now
    )
    what = _("return") if decision.kind is RequestKind.RETURN else _("cancellation")
    outcome = (
        _("✅ {what} approved for {resident}: {item}.")
        if decision.approved
        else _("❌ {what} rejected for {resident}: {item}.")
    ).format(
        what=what,
        resident=esc(decision.resident),
        item=item_label(decision.number, decision.name),
    )
    await callback.answer(_("Done: the resident is told."))
    if isinstance(callback.message, Message) and callback.message.text:
        # The request stays readable, with its outcome and without buttons (another admin may
        # have the same request: their press is answered with who decided).
        await callback.message.edit_text(
            esc(callback.message.text) + "\n\n" + outcome, reply_markup=None
        )


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(decide, Decide.filter())
    return router
