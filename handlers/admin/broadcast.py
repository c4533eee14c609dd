"""/broadcast (news to every community, with a live status message and a Stop button) and
/status (the health of delivery)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import esc
from bot.services.community import broadcasts
from bot.services.community.people import Actor
from bot.services.kernel import health
from handlers.admin.keyboards import StopBroadcast, stop_broadcast
from handlers.parsing import BadUsage, need_private
from handlers.replies import answer
from handlers.texts.community import broadcast_status


async def broadcast(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
) -> None:
    need_private(message, "broadcast")
    actor.require_admin()
    text = (command.args or "").strip()
    if not text:
        raise BadUsage("/broadcast text", _("Write the news after the command."))
    progress = await broadcasts.start(session, actor, text, now)
    status = await message.answer(
        broadcast_status(progress, now), reply_markup=stop_broadcast(progress.broadcast_id)
    )
    await broadcasts.attach_status(session, progress.broadcast_id, status.message_id)


async def stop(
    callback: CallbackQuery,
    callback_data: StopBroadcast,
    session: AsyncSession,
    now: datetime,
    actor: Actor,
) -> None:
    progress = await broadcasts.stop(session, actor, callback_data.broadcast_id, now)
    await callback.answer(
        _("Stopped: {count} not sent.").format(count=progress.cancelled), show_alert=True
    )


def _kind(kind: str) -> str:
    return {
        "closed": _("pickup codes and results"),
        "ready": _("ready for pickup"),
        "drop_post": _("drop posts"),
        "closed_group": _("closing news in groups"),
        "unreachable": _("start-me notices"),
        "reminder": _("reminders"),
        "broadcast": _("broadcasts"),
        "broadcast_report": _("broadcast reports"),
        "admin_alert": _("admin alerts"),
    }.get(kind, kind)


async def status(message: Message, session: AsyncSession, now: datetime, actor: Actor) -> None:
    need_private(message, "status")
    view = await health.status(session, actor, now)
    queued = sum(view.queued.values())
    lines = [_("📊 <b>Delivery</b>")]
    if queued:
        by_kind = ", ".join(f"{_kind(k)} {n}" for k, n in sorted(view.queued.items()))
        age = int((now - view.oldest_queued_at).total_seconds()) if view.oldest_queued_at else 0
        lines.append(
            _("Queued now: {count} ({kinds}); the oldest for {age}s.").format(
                count=queued, kinds=by_kind, age=age
            )
        )
    else:
        lines.append(_("Queued now: nothing."))
    lines.append(
        _(
            "Waiting for residents to open a private chat: {count} messages for {users} residents."
        ).format(count=view.held, users=view.held_users)
    )
    lines.append(
        _("In the last hour: {sent} sent, {failed} failed.").format(
            sent=view.sent_last_hour, failed=view.failed_last_hour
        )
    )
    said = view.telegram_last_hour
    lines.append(
        _(
            "Telegram in the last hour: 429 ×{too_many} · 403 ×{forbidden} · 400 ×{bad} · 5xx ×{server} · network ×{network}"
        ).format(
            too_many=said.get("429", 0),
            forbidden=said.get("403", 0),
            bad=said.get("400", 0),
            server=said.get("5xx", 0),
            network=said.get("network", 0),
        )
    )
    lines.append(
        _("Residents the bot cannot write to: {count}.").format(count=view.unreachable_users)
    )
    if view.last_failure:
        lines.append(_("Last failure: {error}").format(error=esc(view.last_failure)))
    if view.reservations_held or view.reservations_lapsed or said.get("pre_checkout"):
        lines.append(
            _(
                "Paying in advance: {held} reservations waiting for payment, {lapsed} lapsed "
                "unpaid in the last day; pre-checkouts not answered in time in the last hour: "
                "{late}."
            ).format(
                held=view.reservations_held,
                lapsed=view.reservations_lapsed,
                late=said.get("pre_checkout", 0),
            )
        )
    await answer(message, "\n".join(lines))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.message.register(broadcast, Command("broadcast"))
    router.callback_query.register(stop, StopBroadcast.filter())
    router.message.register(status, Command("status"))
    return router
