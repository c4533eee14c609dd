"""After-sale: cancelling a formed item before it ships, and returning a picked-up one.

Both are requests an admin approves or rejects (buttons on the request the admins receive); the
resident is told the outcome privately.

- **Cancel**: `/cancel n` on an item that already formed, while its pickup date has not been
  shipped (`/shipping` marks a date shipped). Approved, the order is cancelled: nothing is owed
  and it leaves the picking and shipping lists.
- **Return**: a picked-up order of a returnable item, within the item's return window (48 hours
  by default, `return=` in the drop), with a description and at least 2 photos. Approved, the
  order is returned and its points and commission are reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.books import ledger
from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor, UserRef
from bot.services.kernel import outbox
from bot.services.kernel.errors import (
    AlreadyRequested,
    AlreadyShipped,
    ItemClosed,
    ItemNotFound,
    NotAllowed,
    NotJoined,
    NotReturnable,
    RequestDecided,
    RequestUnknown,
    ReturnWindowOver,
    TooFewPhotos,
)
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import orders_with_items
from bot.services.notices import AfterSaleNotice, DecisionNotice
from bot.services.ordering import joins
from bot.services.ordering.joins import CancelResult
from bot.services.payments import refunds
from models import (
    AfterSaleRequest,
    Community,
    DropItem,
    GroupBuy,
    GroupBuyState,
    Order,
    OrderState,
    RefundReason,
    RequestKind,
    RequestState,
    Shipment,
    User,
)

MIN_PHOTOS = 2
MAX_PHOTOS = 10  # one album
MAX_REASON = 1000
RECENT = timedelta(days=30)  # how far back /return looks for picked-up orders


@dataclass(frozen=True)
class Requested:
    request_id: int
    number: int
    name: str


async def _shipped(session: AsyncSession, day: date) -> bool:
    return await session.get(Shipment, day) is not None


async def _pending(session: AsyncSession, order_id: int) -> AfterSaleRequest | None:
    found: AfterSaleRequest | None = await session.scalar(
        select(AfterSaleRequest).where(
            AfterSaleRequest.order_id == order_id,
            AfterSaleRequest.state == RequestState.PENDING,
        )
    )
    return found


def _request_notice(
    request: AfterSaleRequest,
    admin_id: int,
    community: str,
    resident: UserRef,
    order: Order,
    number: int,
    name: str,
    unit: str | None,
    pickup_date: date,
) -> outbox.Notice:
    payload = AfterSaleNotice(
        request_id=request.id,
        kind=request.kind.value,
        community=community,
        resident=resident.display_name,
        resident_id=resident.id,
        number=number,
        name=name,
        unit=unit,
        quantity=order.delivered,
        amount=order.delivered * order.unit_price,
        pickup_date=pickup_date,
        reason=request.reason,
        photos=request.photos or [],
    )
    return outbox.Notice(
        payload,
        chat_id=admin_id,
        user_id=admin_id,
        dedupe_key=f"after-sale:{request.id}:{admin_id}",
    )


async def _order_in_full(
    session: AsyncSession, order_id: int, *, lock: bool = False
) -> tuple[Order, GroupBuy, DropItem, Community, User]:
    """An order with its group-buy, item, community and resident (the order row locked)."""
    query = (
        orders_with_items(Order, GroupBuy, DropItem, Community, User)
        .join(Community, Community.id == GroupBuy.community_id)
        .join(User, User.id == Order.user_id)
        .where(Order.id == order_id)
    )
    if lock:
        query = query.with_for_update(of=Order)
    order, gb, item, community, user = (await session.execute(query)).one()
    return order, gb, item, community, user


async def _tell_admins(
    session: AsyncSession,
    request: AfterSaleRequest,
    admin_ids: frozenset[int],
    now: datetime,
) -> None:
    order, gb, item, community, user = await _order_in_full(session, request.order_id)
    assert gb.pickup_date is not None
    notices = [
        _request_notice(
            request,
            admin,
            community.name,
            UserRef.of(user),
            order,
            gb.number or 0,
            item.name,
            item.unit,
            gb.pickup_date,
        )
        for admin in sorted(admin_ids)
    ]
    await outbox.enqueue(session, notices, now)


@unit_of_work
async def request_cancel(
    session: AsyncSession,
    community: CommunityRef,
    user_id: int,
    number: int,
    admin_ids: frozenset[int],
    now: datetime,
) -> Requested:
    """`/cancel n` after item n formed: ask the admins, unless its date has shipped."""
    found = (
        await session.execute(
            orders_with_items(Order, GroupBuy, DropItem.name)
            .where(
                GroupBuy.community_id == community.id,
                GroupBuy.number == number,
                GroupBuy.state.in_([GroupBuyState.FORMED, GroupBuyState.ARRIVED]),
                Order.user_id == user_id,
            )
            .order_by(GroupBuy.id.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        raise ItemNotFound(number)
    order, gb, name = found
    assert gb.pickup_date is not None
    if order.state is not OrderState.CONFIRMED:
        if order.state in (OrderState.READY, OrderState.PICKED_UP):
            raise AlreadyShipped(gb.pickup_date)
        raise NotJoined(number, name)
    if gb.state is GroupBuyState.ARRIVED or await _shipped(session, gb.pickup_date):
        raise AlreadyShipped(gb.pickup_date)
    if await _pending(session, order.id) is not None:
        raise AlreadyRequested(number, name)
    request = AfterSaleRequest(
        kind=RequestKind.CANCEL,
        order_id=order.id,
        user_id=user_id,
        state=RequestState.PENDING,
        created_at=now,
    )
    session.add(request)
    await session.flush()
    await _tell_admins(session, request, admin_ids, now)
    return Requested(request.id, number, name)


@unit_of_work
async def leave(
    session: AsyncSession,
    community: CommunityRef,
    user_id: int,
    number: int,
    admin_ids: frozenset[int],
    now: datetime,
) -> CancelResult | Requested:
    """`/cancel n`: leave an open item at once (`CancelResult`); once it has formed, leaving
    needs an admin's approval, so the admins are asked instead (`Requested`)."""
    try:
        return await joins.cancel(session, community.id, user_id, number, now)
    except ItemClosed as closed:
        if closed.state not in ("formed", "arrived"):
            raise
    # The failed cancel wrote nothing (the item's row did not match), so the request can follow
    # in the same transaction.
    return await request_cancel(session, community, user_id, number, admin_ids, now)


# -- Returns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Returnable:
    order_id: int
    community: str
    number: int
    name: str
    unit: str | None
    quantity: int
    picked_up_at: datetime
    returnable: bool
    until: datetime  # end of the return window


@read_only
async def return_candidates(session: AsyncSession, user_id: int, now: datetime) -> list[Returnable]:
    """Picked-up orders of the last 30 days, newest first (returnable or not: the resident is
    told why one cannot be returned)."""
    rows = (
        await session.execute(
            orders_with_items(Order, GroupBuy.number, DropItem, Community.name)
            .join(Community, Community.id == GroupBuy.community_id)
            .where(
                Order.user_id == user_id,
                Order.state == OrderState.PICKED_UP,
                Order.picked_up_at >= now - RECENT,
            )
            .order_by(Order.picked_up_at.desc(), Order.id.desc())
            .limit(20)
        )
    ).all()
    return [_returnable(order, number, item, community) for order, number, item, community in rows]


def _returnable(order: Order, number: int | None, item: DropItem, community: str) -> Returnable:
    assert order.picked_up_at is not None
    return Returnable(
        order_id=order.id,
        community=community,
        number=number or 0,
        name=item.name,
        unit=item.unit,
        quantity=order.delivered,
        picked_up_at=order.picked_up_at,
        returnable=item.returnable,
        until=order.picked_up_at + timedelta(hours=item.return_hours),
    )


async def _check_return(
    session: AsyncSession, user_id: int, order_id: int, now: datetime
) -> Returnable:
    row = (
        await session.execute(
            orders_with_items(Order, GroupBuy.number, DropItem, Community.name, Community.timezone)
            .join(Community, Community.id == GroupBuy.community_id)
            .where(Order.id == order_id, Order.user_id == user_id)
        )
    ).first()
    if row is None or row[0].state is not OrderState.PICKED_UP:
        raise NotReturnable(None, "not_picked_up")
    order, number, item, community, timezone = row
    candidate = _returnable(order, number, item, community)
    if not candidate.returnable:
        raise NotReturnable(candidate.name, "noreturn")
    if now > candidate.until:
        raise ReturnWindowOver(candidate.name, candidate.until, timezone)
    if await _pending(session, order_id) is not None:
        raise AlreadyRequested(candidate.number, candidate.name)
    return candidate


@read_only
async def check_return(
    session: AsyncSession, user_id: int, order_id: int, now: datetime
) -> Returnable:
    """May this order be returned now? Raises the reason it may not."""
    return await _check_return(session, user_id, order_id, now)


@unit_of_work
async def request_return(
    session: AsyncSession,
    user_id: int,
    order_id: int,
    reason: str,
    photos: list[str],
    admin_ids: frozenset[int],
    now: datetime,
) -> Requested:
    candidate = await _check_return(session, user_id, order_id, now)
    if len(photos) < MIN_PHOTOS:
        raise TooFewPhotos(len(photos), MIN_PHOTOS)
    request = AfterSaleRequest(
        kind=RequestKind.RETURN,
        order_id=order_id,
        user_id=user_id,
        state=RequestState.PENDING,
        reason=reason[:MAX_REASON],
        photos=photos[:MAX_PHOTOS],
        created_at=now,
    )
    session.add(request)
    await session.flush()
    await _tell_admins(session, request, admin_ids, now)
    return Requested(request.id, candidate.number, candidate.name)


# -- The admin's decision ------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    request_id: int
    kind: RequestKind
    approved: bool
    resident: str
    number: int
    name: str


@unit_of_work
async def decide(
    session: AsyncSession, actor: Actor, request_id: int, approve: bool, now: datetime
) -> Decision:
    if not actor.is_admin:
        raise NotAllowed("admin")
    request = await session.get(AfterSaleRequest, request_id, with_for_update=True)
    if request is None:
        raise RequestUnknown(request_id)
    if request.state is not RequestState.PENDING:
        raise RequestDecided(request.state.value, request.decided_at)
    order, gb, item, community, user = await _order_in_full(session, request.order_id, lock=True)
    if approve:
        if request.kind is RequestKind.CANCEL:
            assert gb.pickup_date is not None
            if order.state is not OrderState.CONFIRMED or await _shipped(session, gb.pickup_date):
                raise AlreadyShipped(gb.pickup_date)
            order.state = OrderState.CANCELLED
            await refunds.owe(session, order, RefundReason.CANCELLED, now, None)
        else:
            if order.state is not OrderState.PICKED_UP:
                raise NotReturnable(item.name, "not_picked_up")
            order.state = OrderState.RETURNED
            await ledger.reverse(session, [order.id], "return", now)
            # What was delivered is given back (a short part was owed back already).
            await refunds.owe(
                session, order, RefundReason.RETURNED, now, order.delivered * order.unit_price
            )
        order.updated_at = now
    request.state = RequestState.APPROVED if approve else RequestState.REJECTED
    request.decided_at, request.decided_by = now, actor.user_id
    notice = outbox.Notice(
        DecisionNotice(
            kind=request.kind.value,
            approved=approve,
            community=community.name,
            number=gb.number or 0,
            name=item.name,
            amount=order.delivered * order.unit_price,
        ),
        chat_id=request.user_id,
        user_id=request.user_id,
        community_id=community.id,
        dedupe_key=f"decision:{request.id}",
    )
    await outbox.enqueue(session, [notice], now)
    return Decision(
        request.id,
        request.kind,
        approve,
        UserRef.of(user).display_name,
        gb.number or 0,
        item.name,
    )


@dataclass(frozen=True)
class Shipping:
    newly: bool  # False: the date was marked shipped before
    shipped_at: datetime
    pending_cancellations: int  # requests an admin has not decided: they can no longer be approved


@unit_of_work
async def mark_shipped(session: AsyncSession, actor: Actor, day: date, now: datetime) -> Shipping:
    """The goods of `day` are on their way: no more cancellations for them."""
    actor.require_admin()
    shipment = await session.get(Shipment, day)
    newly = shipment is None
    if shipment is None:
        shipment = Shipment(pickup_date=day, shipped_at=now, shipped_by=actor.user_id)
        session.add(shipment)
        await session.flush()
    pending = await session.scalar(
        select(func.count())
        .select_from(AfterSaleRequest)
        .join(Order, Order.id == AfterSaleRequest.order_id)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .where(
            AfterSaleRequest.kind == RequestKind.CANCEL,
            AfterSaleRequest.state == RequestState.PENDING,
            GroupBuy.pickup_date == day,
        )
    )
    return Shipping(newly, shipment.shipped_at, int(pending or 0))
