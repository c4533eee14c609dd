"""Deadline nudges: an item still short of its minimum gets one short message in its group at
each of the community's nudge moments (by default an hour and a quarter of an hour before its
deadline): how many more are needed, and the time left. Never more than that.

Items of the same community with the same deadline share one message. A moment that passed while
the bot was down is skipped when it is more than ten minutes old (the nudge would come too late
to help), and so is one before the item was posted or just after it (`_settling`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel import outbox
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import group_buys_with_items
from bot.services.notices import NudgeLine, NudgeNotice
from models import Community, DropItem, DropPost, GroupBuy, GroupBuyState

LATE = timedelta(minutes=10)


def _settling(posted_at: datetime, deadline: datetime) -> timedelta:
    """A nudge this soon after the post would only repeat it: the residents have not had time to
    answer it yet (10 minutes, or a quarter of a short item's time)."""
    return min(timedelta(minutes=10), (deadline - posted_at) / 4)


@unit_of_work
async def nudge_due(session: AsyncSession, now: datetime) -> int:
    """Queue the nudges whose moment has come. Returns how many messages were queued."""
    rows = (
        await session.execute(
            group_buys_with_items(GroupBuy, DropItem.name, Community, DropPost.posted_at)
            .join(Community, Community.id == GroupBuy.community_id)
            .join(DropPost, DropPost.id == GroupBuy.drop_post_id)
            .where(
                GroupBuy.state == GroupBuyState.OPEN,
                GroupBuy.deadline > now,
                GroupBuy.members < GroupBuy.min_members,
                Community.active.is_(True),
            )
            .order_by(GroupBuy.community_id, GroupBuy.number)
        )
    ).all()
    due: dict[tuple[int, datetime, int], list[NudgeLine]] = defaultdict(list)
    places: dict[int, Community] = {}
    for gb, name, community, posted_at in rows:
        assert gb.deadline is not None
        for offset in (community.first_nudge, community.second_nudge):
            moment = gb.deadline - timedelta(seconds=offset)
            if not offset or moment > now or now - moment > LATE:
                continue
            if posted_at is not None and moment < posted_at + _settling(posted_at, gb.deadline):
                continue
            places[community.id] = community
            due[(community.id, gb.deadline, offset)].append(
                NudgeLine(number=gb.number or 0, name=name, more=gb.min_members - gb.members)
            )
    notices = [
        outbox.Notice(
            NudgeNotice(items=items, deadline=deadline, timezone=places[community_id].timezone),
            chat_id=places[community_id].chat_id,
            community_id=community_id,
            dedupe_key=f"nudge:{community_id}:{int(deadline.timestamp())}:{offset}",
        )
        for (community_id, deadline, offset), items in due.items()
    ]
    return await outbox.enqueue(session, notices, now)


@read_only
async def nudge_moments(session: AsyncSession, now: datetime) -> list[datetime]:
    """The future nudge moments of open items, for the timekeeper to wake at."""
    rows = await session.execute(
        select(GroupBuy.deadline, Community.first_nudge, Community.second_nudge)
        .join(Community, Community.id == GroupBuy.community_id)
        .where(GroupBuy.state == GroupBuyState.OPEN, GroupBuy.deadline > now)
        .distinct()
    )
    moments: set[datetime] = set()
    for deadline, first, second in rows:
        if deadline is not None:
            moments.update(nudge_moments_before(deadline, (first, second), now))
    return sorted(moments)


def nudge_moments_before(
    deadline: datetime, offsets: tuple[int, int], now: datetime
) -> list[datetime]:
    """The future nudge moments of a deadline, at the community's `offsets` (seconds; 0: off)."""
    moments = [deadline - timedelta(seconds=offset) for offset in offsets if offset]
    return [moment for moment in moments if moment > now]
