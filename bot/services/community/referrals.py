"""Referrals: a personal start link (/invite); a new resident who starts the bot through it is
recorded as brought by its owner, and a leader sees their community's promoters.

"New" means the resident has no order yet and was not referred before: an invite cannot take
credit for a neighbour who was already buying, and a referral is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor, UserRef
from bot.services.kernel.uow import read_only, unit_of_work
from models import GroupBuy, Order, OrderState, User

_BOUGHT = (OrderState.CONFIRMED, OrderState.READY, OrderState.PICKED_UP)


@unit_of_work
async def record_referral(session: AsyncSession, user_id: int, referrer_id: int) -> str | None:
    """Record that `referrer_id` brought `user_id`; returns the referrer's name if it counted."""
    if user_id == referrer_id:
        return None
    referrer = await session.get(User, referrer_id)
    user = await session.get(User, user_id, with_for_update=True)
    if referrer is None or user is None or user.referred_by is not None:
        return None
    if await session.scalar(select(exists().where(Order.user_id == user_id))):
        return None
    user.referred_by = referrer_id
    return UserRef.of(referrer).display_name


@dataclass(frozen=True)
class Promoter:
    user_id: int
    name: str
    residents: int  # referred residents who bought here
    orders: int
    amount: int  # what those residents bought here (minor units, owed)


@read_only
async def promoters(session: AsyncSession, actor: Actor, community: CommunityRef) -> list[Promoter]:
    """Who brought residents that bought in this community, most brought first."""
    community.require_leader(actor)
    referred = select(User.id, User.referred_by).where(User.referred_by.is_not(None)).subquery()
    rows = (
        await session.execute(
            select(
                referred.c.referred_by,
                func.count(distinct(Order.user_id)),
                func.count(Order.id),
                func.coalesce(func.sum(Order.delivered * Order.unit_price), 0),
            )
            .join(Order, Order.user_id == referred.c.id)
            .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
            .where(GroupBuy.community_id == community.id, Order.state.in_(_BOUGHT))
            .group_by(referred.c.referred_by)
        )
    ).all()
    names = {
        user.id: UserRef.of(user).display_name
        for user in await session.scalars(select(User).where(User.id.in_([r[0] for r in rows])))
    }
    found = [
        Promoter(
            int(referrer), names.get(referrer, str(referrer)), int(people), int(n), int(amount)
        )
        for referrer, people, n, amount in rows
    ]
    return sorted(found, key=lambda p: (-p.residents, -p.amount, p.name.casefold()))
