"""The automatic pickup reminder: residents whose goods are ready and not picked up hear from the
bot at the community's reminder time (local, `/settings reminder=19:00`) on the pickup day and
on the day after. Never more: after that the leader decides (/unpicked, /remind). Each community
is looked at once a day (`Community.reminded_on`), so the sweep every few seconds costs one small
read.

Goods that arrived after the reminder time are not reminded of that day (the "ready" message has
just gone out). A reminder time missed while the bot was down is made up within `CATCH_UP`, not
later (nobody wants a reminder at 3 am). Each code is reminded once per day, by idempotency key.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.kernel import outbox
from bot.services.kernel.clock import local_date
from bot.services.kernel.uow import housekeeping
from bot.services.notices import ReminderNotice
from bot.services.pickup.handover import mark_reminded, ready_notices
from models import Community, GroupBuy, Order, OrderState

CATCH_UP = timedelta(hours=3)


def reminder_moment(community: CommunityRef, now: datetime) -> datetime | None:
    """Today's reminder moment in the community (UTC), or None if reminders are off."""
    if not community.reminder_time:
        return None
    hour, minute = map(int, community.reminder_time.split(":"))
    today = local_date(now, community.tz)
    return datetime.combine(today, time(hour, minute), community.tz).astimezone(now.tzinfo)


@housekeeping
async def auto_remind(session: AsyncSession, now: datetime) -> int:
    """Queue the reminders whose moment has come. Returns how many were queued."""
    places = (
        await session.scalars(
            select(Community).where(Community.active.is_(True), Community.reminder_time != "")
        )
    ).all()
    queued = 0
    for row in places:
        community = CommunityRef.of(row)
        moment = reminder_moment(community, now)
        today = local_date(now, community.tz)
        if moment is None or not moment <= now < moment + CATCH_UP or row.reminded_on == today:
            continue
        row.reminded_on = today  # one look a day: goods that arrive later wait for tomorrow's
        code_ids = (
            await session.scalars(
                select(Order.pickup_code_id)
                .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
                .where(
                    GroupBuy.community_id == community.id,
                    GroupBuy.pickup_date.in_([today, today - timedelta(days=1)]),
                    GroupBuy.arrived_at <= moment,
                    Order.state == OrderState.READY,
                    Order.pickup_code_id.is_not(None),
                )
                .distinct()
            )
        ).all()
        due = [code_id for code_id in code_ids if code_id is not None]
        notices = await ready_notices(
            session, community, due, ReminderNotice, f"auto-{today.isoformat()}"
        )
        await mark_reminded(session, due, now)
        queued += await outbox.enqueue(session, notices, now)
    return queued
