"""Drops: an admin's draft, its publication to every active community, and each post going out.

Publishing creates, for every active community, a `DropPost` due at its post time and one
`GroupBuy` per item. When a post goes out (`post_due`, or at once for `/publish` without a time)
its group-buys open: they get their item numbers, deadline and pickup date in that community's
time zone, and the post is queued in the outbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import point_of
from bot.services.community.people import Actor
from bot.services.kernel import effects, outbox
from bot.services.kernel.clock import local_date, next_local_time
from bot.services.kernel.errors import (
    DropAlreadyPublished,
    DropNotFound,
    NoActiveCommunities,
    PaymentsOff,
    PickupBeforeDeadline,
)
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import ItemView, Joiner, group_buys_with_items
from bot.services.notices import DropPostNotice
from bot.services.ordering.drop_format import Deadline, DropSpec, ItemSpec, Pickup
from bot.services.ordering.nudges import nudge_moments_before
from bot.services.pickup.point import PickupPoint
from models import (
    Community,
    Drop,
    DropItem,
    DropPost,
    DropState,
    GroupBuy,
    GroupBuyState,
    ItemPhoto,
    Order,
    OrderState,
    PostState,
    User,
)

log = logging.getLogger(__name__)

LATEST_JOINERS = 3  # how many of an item's latest members its post names


@dataclass(frozen=True)
class DropPreview:
    drop_id: int
    deadline: Deadline
    pickup: Pickup
    # What the deadline and pickup date would be if it were published now, in the default zone.
    example_deadline: datetime
    example_pickup: date
    items: tuple[ItemSpec, ...]
    photos: dict[int, int] = field(default_factory=dict)  # photos by item position
    pay_within: int | None = None  # paid in advance, within so many minutes of joining


@dataclass(frozen=True)
class Publication:
    drop_id: int
    communities: int
    post_at: datetime | None  # None: posted now; else the earliest scheduled post time


@dataclass(frozen=True)
class PostView:
    """A drop post as it stands now in one community."""

    community: str
    timezone: str
    point: PickupPoint
    deadline: datetime
    pickup_date: date
    items: list[ItemView]
    drop_id: int = 0
    picture: str | None = None  # the drop picture's file id for this numbering, once uploaded
    prepaid: bool = False  # residents pay when they join (Telegram Payments)

    @property
    def pictured(self) -> bool:
        """Some item has a photo: the post is a picture; else it is text only."""
        return any(item.photos for item in self.items)


def resolve_times(
    deadline: Deadline, pickup: Pickup, posted_at: datetime, tz: ZoneInfo
) -> tuple[datetime, date]:
    """A post's deadline and pickup date in one community's zone."""
    if deadline.after is not None:
        closes = posted_at + deadline.after
    else:
        assert deadline.at is not None
        closes = next_local_time(posted_at, deadline.at, tz)
    closing_day = local_date(closes, tz)
    if pickup.on is not None:
        pickup_day = pickup.on
    elif pickup.relative == "today":
        pickup_day = local_date(posted_at, tz)
    elif pickup.relative == "tomorrow":
        pickup_day = local_date(posted_at, tz) + timedelta(days=1)
    else:  # next-day delivery
        pickup_day = closing_day + timedelta(days=1)
    if pickup_day < closing_day:
        raise PickupBeforeDeadline(pickup_date=pickup_day, deadline=closes, community=None)
    return closes, pickup_day


@unit_of_work
async def create_drop(
    session: AsyncSession,
    actor: Actor,
    spec: DropSpec,
    source_text: str,
    default_zone: ZoneInfo,
    now: datetime,
    photo: str | None = None,
    pay_within: int | None = None,
) -> DropPreview:
    """A draft; `photo` (a `/drop` sent as a photo's caption) goes to its first item.

    `pay_within`: the platform takes payment in advance, and an unpaid reservation holds this
    many minutes; its drops are then prepaid unless they say `pay=pickup`. None: no payments,
    and a drop that asks for `pay=now` is refused."""
    actor.require_admin()
    if spec.pay == "now" and pay_within is None:
        raise PaymentsOff()
    prepaid_for = pay_within if spec.pay != "pickup" else None
    example_deadline, example_pickup = resolve_times(spec.deadline, spec.pickup, now, default_zone)
    drop = Drop(
        created_by=actor.user_id,
        created_at=now,
        state=DropState.DRAFT,
        deadline_spec=spec.deadline.spec,
        pickup_spec=spec.pickup.spec,
        source_text=source_text,
        pay_within=prepaid_for,
    )
    session.add(drop)
    await session.flush()
    items = [
        DropItem(
            drop_id=drop.id,
            position=position,
            name=item.name,
            unit=item.unit,
            price=item.price,
            min_members=item.min_members,
            purchase_limit=item.purchase_limit,
            stock=item.stock,
            stock_left=item.stock,
            returnable=item.returnable,
            earns_points=item.earns_points,
            return_hours=item.return_hours,
            description=item.description,
        )
        for position, item in enumerate(spec.items, start=1)
    ]
    session.add_all(items)
    if photo is not None:
        await session.flush()
        session.add(ItemPhoto(drop_item_id=items[0].id, position=1, file_id=photo))
    return DropPreview(
        drop_id=drop.id,
        deadline=spec.deadline,
        pickup=spec.pickup,
        example_deadline=example_deadline,
        example_pickup=example_pickup,
        items=spec.items,
        photos={1: 1} if photo is not None else {},
        pay_within=prepaid_for,
    )


@unit_of_work
async def publish(
    session: AsyncSession, actor: Actor, drop_id: int, at: time | None, now: datetime
) -> Publication:
    """Publish to every active community: now, or at local time `at` in each community."""
    actor.require_admin()
    drop = await session.scalar(select(Drop).where(Drop.id == drop_id).with_for_update())
    if drop is None:
        raise DropNotFound(drop_id)
    if drop.state is DropState.PUBLISHED:
        assert drop.published_at is not None
        raise DropAlreadyPublished(drop_id, drop.published_at)
    communities = (
        await session.scalars(
            select(Community).where(Community.active.is_(True)).order_by(Community.id)
        )
    ).all()
    if not communities:
        raise NoActiveCommunities()
    items = (
        await session.scalars(
            select(DropItem).where(DropItem.drop_id == drop_id).order_by(DropItem.position)
        )
    ).all()
    deadline = Deadline.parse(drop.deadline_spec)
    pickup = Pickup.parse(drop.pickup_spec)

    posts: list[tuple[DropPost, Community]] = []
    for community in communities:
        tz = ZoneInfo(community.timezone)
        post_at = now if at is None else next_local_time(now, at, tz)
        try:
            resolve_times(deadline, pickup, post_at, tz)
        except PickupBeforeDeadline as refusal:
            refusal.community = community.name
            raise
        post = DropPost(
            drop_id=drop_id, community_id=community.id, state=PostState.SCHEDULED, post_at=post_at
        )
        session.add(post)
        posts.append((post, community))
    await session.flush()
    session.add_all(
        GroupBuy(
            drop_post_id=post.id,
            drop_item_id=item.id,
            community_id=community.id,
            state=GroupBuyState.SCHEDULED,
            unit_price=item.price,
            min_members=item.min_members,
            purchase_limit=item.purchase_limit,
            members=0,
            last_seq=0,
            pay_within=drop.pay_within,
        )
        for post, community in posts
        for item in items
    )
    await session.flush()
    drop.state = DropState.PUBLISHED
    drop.published_at = now

    if at is None:
        for post, community in posts:
            await _open_post(session, post, community, deadline, pickup, now)
        return Publication(drop_id, len(posts), None)
    post_times = {post.post_at for post, _ in posts}
    effects.wake_at(session, post_times)
    return Publication(drop_id, len(posts), min(post_times))


@unit_of_work
async def post_due(session: AsyncSession, now: datetime) -> list[datetime]:
    """Send out every scheduled post whose time has come. Returns the new deadlines."""
    rows = (
        await session.execute(
            select(DropPost, Community, Drop)
            .join(Community, Community.id == DropPost.community_id)
            .join(Drop, Drop.id == DropPost.drop_id)
            .where(DropPost.state == PostState.SCHEDULED, DropPost.post_at <= now)
            .order_by(DropPost.post_at, DropPost.id)
            .with_for_update(of=DropPost, skip_locked=True)
        )
    ).all()
    deadlines = []
    for post, community, drop in rows:
        deadline = Deadline.parse(drop.deadline_spec)
        pickup = Pickup.parse(drop.pickup_spec)
        deadlines.append(await _open_post(session, post, community, deadline, pickup, now))
    return deadlines


@read_only
async def post_view(session: AsyncSession, post_id: int) -> PostView | None:
    rows = (
        await session.execute(
            group_buys_with_items(GroupBuy, DropItem, Community, Drop.picture_file_ids)
            .join(Community, Community.id == GroupBuy.community_id)
            .join(Drop, Drop.id == DropItem.drop_id)
            .where(GroupBuy.drop_post_id == post_id, GroupBuy.number.is_not(None))
            .order_by(GroupBuy.number)
        )
    ).all()
    if not rows:
        return None
    first, first_item, community, pictures = rows[0]
    counted = await session.execute(
        select(ItemPhoto.drop_item_id, func.count())
        .where(ItemPhoto.drop_item_id.in_([item.id for _, item, _, _ in rows]))
        .group_by(ItemPhoto.drop_item_id)
    )
    photos: dict[int, int] = dict(counted.all())
    assert first.deadline is not None
    assert first.pickup_date is not None
    latest = await _latest_joiners(
        session, [gb.id for gb, _, _, _ in rows if gb.state is GroupBuyState.OPEN]
    )
    return PostView(
        community=community.name,
        timezone=community.timezone,
        point=point_of(community),
        deadline=first.deadline,
        pickup_date=first.pickup_date,
        items=[
            ItemView.of(gb, item, latest.get(gb.id, ()), photos.get(item.id, 0))
            for gb, item, _, _ in rows
        ],
        drop_id=first_item.drop_id,
        picture=(pictures or {}).get(str(first.number)),
        prepaid=first.pay_within is not None,
    )


async def _latest_joiners(
    session: AsyncSession, group_buy_ids: list[int]
) -> dict[int, tuple[Joiner, ...]]:
    """The last `LATEST_JOINERS` members of each open item, oldest first: the post's 接龙 list,
    so a typed /join is seen in the group without a message of its own."""
    if not group_buy_ids:
        return {}
    ranked = (
        select(
            Order.group_buy_id,
            Order.seq,
            Order.quantity,
            User.first_name,
            func.row_number()
            .over(partition_by=Order.group_buy_id, order_by=Order.seq.desc())
            .label("rank"),
        )
        .join(User, User.id == Order.user_id)
        .where(Order.group_buy_id.in_(group_buy_ids), Order.state == OrderState.JOINED)
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.group_buy_id, ranked.c.seq, ranked.c.first_name, ranked.c.quantity)
        .where(ranked.c.rank <= LATEST_JOINERS)
        .order_by(ranked.c.group_buy_id, ranked.c.seq)
    )
    latest: dict[int, list[Joiner]] = {}
    for group_buy_id, seq, name, quantity in rows:
        latest.setdefault(group_buy_id, []).append(Joiner(seq or 0, name, quantity))
    return {key: tuple(value) for key, value in latest.items()}


@read_only
async def scheduled_times(session: AsyncSession) -> list[datetime]:
    """Every future moment the scheduler must wake for: open deadlines and scheduled posts."""
    deadlines = await session.scalars(
        select(GroupBuy.deadline).where(GroupBuy.state == GroupBuyState.OPEN).distinct()
    )
    posts = await session.scalars(
        select(DropPost.post_at).where(DropPost.state == PostState.SCHEDULED).distinct()
    )
    return sorted({*(d for d in deadlines if d is not None), *posts})


async def _open_post(
    session: AsyncSession,
    post: DropPost,
    community: Community,
    deadline: Deadline,
    pickup: Pickup,
    now: datetime,
) -> datetime:
    # Numbering reads the community's live numbers and writes new ones: one poster at a time.
    await session.execute(
        select(Community.id).where(Community.id == community.id).with_for_update()
    )
    live = set(
        (
            await session.scalars(
                select(GroupBuy.number).where(
                    GroupBuy.community_id == community.id,
                    GroupBuy.state.in_([GroupBuyState.OPEN, GroupBuyState.FORMED]),
                    GroupBuy.number.is_not(None),
                )
            )
        ).all()
    )
    group_buys = (
        await session.execute(
            group_buys_with_items(GroupBuy, DropItem.position)
            .where(GroupBuy.drop_post_id == post.id)
            .order_by(DropItem.position)
        )
    ).all()
    # Numbers start at 1 when they are free, so residents type small numbers; a drop overlapping
    # live items continues after them, so a number always names one item.
    offset = 0 if live.isdisjoint(range(1, len(group_buys) + 1)) else max(n for n in live if n)

    tz = ZoneInfo(community.timezone)
    try:
        closes, pickup_day = resolve_times(deadline, pickup, now, tz)
    except PickupBeforeDeadline as late:
        # Validated at publishing; only a changed time zone gets here. Keep the post going.
        log.warning("post %s: pickup date before the deadline, moved to it", post.id)
        closes, pickup_day = late.deadline, local_date(late.deadline, tz)
    for group_buy, position in group_buys:
        group_buy.number = offset + position
        group_buy.state = GroupBuyState.OPEN
        group_buy.deadline = closes
        group_buy.pickup_date = pickup_day
    post.state = PostState.POSTED
    post.posted_at = now
    effects.wake_at(
        session,
        [
            closes,
            *nudge_moments_before(closes, (community.first_nudge, community.second_nudge), now),
        ],
    )
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                DropPostNotice(post_id=post.id),
                chat_id=community.chat_id,
                community_id=community.id,
                dedupe_key=f"post:{post.id}",
            )
        ],
        now,
    )
    return closes
