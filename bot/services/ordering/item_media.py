"""Photos and descriptions of a draft's items; the drop picture's tiles; an item's details.

Photos are kept as Telegram file ids (the bot stores no image files): up to `PHOTOS_PER_ITEM` per
item, the first one being the item's tile on the drop picture every group sees. An admin adds
them while the drop is a draft; after publishing the picture has gone out and stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    DropAlreadyPublished,
    DropNotFound,
    ItemNotFound,
    NoDraft,
    NoSuchDraftItem,
    NotAnItemNumber,
    TextTooLong,
    TooManyItemPhotos,
)
from bot.services.kernel.uow import read_only, unit_of_work
from bot.services.kernel.views import ItemView, group_buys_with_items
from models import (
    DESCRIPTION_LIMIT,
    PHOTOS_PER_ITEM,
    Community,
    Drop,
    DropItem,
    DropState,
    GroupBuy,
    GroupBuyState,
    ItemPhoto,
    Order,
)


@dataclass(frozen=True)
class ItemMedia:
    """What a draft's item has, after a photo or a description was added."""

    drop_id: int
    position: int
    name: str
    photos: int
    description: str | None


@dataclass(frozen=True)
class Tile:
    """One item on the drop picture."""

    number: int
    name: str
    price: int
    unit: str | None
    file_id: str | None  # its first photo; None: a plain numbered tile


@dataclass(frozen=True)
class ItemDetails:
    """An item as its details show it to a resident, privately."""

    item: ItemView
    community: CommunityRef
    description: str | None
    photos: tuple[str, ...]
    pickup_date: date


async def _draft(session: AsyncSession, actor: Actor, drop_id: int | None) -> Drop:
    """The draft named (a reply to its preview), or the admin's latest draft."""
    if drop_id is None:
        drop = await session.scalar(
            select(Drop)
            .where(Drop.created_by == actor.user_id, Drop.state == DropState.DRAFT)
            .order_by(Drop.id.desc())
            .limit(1)
        )
        if drop is None:
            raise NoDraft()
        return drop
    drop = await session.get(Drop, drop_id)
    if drop is None:
        raise DropNotFound(drop_id)
    if drop.state is DropState.PUBLISHED:
        assert drop.published_at is not None
        raise DropAlreadyPublished(drop_id, drop.published_at)
    return drop


async def _item(session: AsyncSession, drop: Drop, position: int) -> DropItem:
    item = await session.scalar(
        select(DropItem).where(DropItem.drop_id == drop.id, DropItem.position == position)
    )
    if item is None:
        count = await session.scalar(
            select(func.count()).select_from(DropItem).where(DropItem.drop_id == drop.id)
        )
        raise NoSuchDraftItem(drop.id, position, count or 0)
    return item


async def _media(session: AsyncSession, drop: Drop, item: DropItem) -> ItemMedia:
    photos = await _photos_of(session, item)
    return ItemMedia(drop.id, item.position, item.name, photos, item.description)


async def _photo_target(
    session: AsyncSession,
    actor: Actor,
    drop_id: int | None,
    position: int | None,
    media_group_id: str | None,
) -> tuple[Drop, DropItem]:
    """The draft item a photo is for, refusing what `add_photo` would refuse."""
    actor.require_admin()
    if position is None:
        sibling = None
        if media_group_id is not None:
            sibling = (
                await session.execute(
                    select(DropItem.drop_id, DropItem.position)
                    .join(ItemPhoto, ItemPhoto.drop_item_id == DropItem.id)
                    .join(Drop, Drop.id == DropItem.drop_id)
                    .where(
                        ItemPhoto.media_group_id == media_group_id,
                        Drop.created_by == actor.user_id,
                    )
                    .limit(1)
                )
            ).first()
        if sibling is None:
            raise NotAnItemNumber()
        drop_id, position = sibling
    drop = await _draft(session, actor, drop_id)
    item = await _item(session, drop, position)
    if await _photos_of(session, item) >= PHOTOS_PER_ITEM:
        raise TooManyItemPhotos(drop.id, position, PHOTOS_PER_ITEM)
    return drop, item


async def _photos_of(session: AsyncSession, item: DropItem) -> int:
    taken = await session.scalar(
        select(func.count()).select_from(ItemPhoto).where(ItemPhoto.drop_item_id == item.id)
    )
    return taken or 0


def check_description(text: str) -> None:
    if len(text.strip()) > DESCRIPTION_LIMIT:
        raise TextTooLong(DESCRIPTION_LIMIT)


@read_only
async def check_photo_target(
    session: AsyncSession,
    actor: Actor,
    *,
    drop_id: int | None = None,
    position: int | None = None,
    media_group_id: str | None = None,
) -> None:
    """Refuse now what `add_photo` would refuse: before a picture sent as a file is downloaded
    and sent back as a photo, so a refused one leaves nothing behind."""
    await _photo_target(session, actor, drop_id, position, media_group_id)


@unit_of_work
async def add_photo(
    session: AsyncSession,
    actor: Actor,
    file_id: str,
    *,
    drop_id: int | None = None,
    position: int | None = None,
    media_group_id: str | None = None,
) -> ItemMedia:
    """Add a photo to an item of a draft. Without `position`, an album's photo goes to the item
    its captioned sibling went to (`NotAnItemNumber` until that one is in)."""
    drop, item = await _photo_target(session, actor, drop_id, position, media_group_id)
    # Positions are taken under the draft's lock, so two photos at once get 1 and 2.
    await session.execute(select(Drop.id).where(Drop.id == drop.id).with_for_update())
    taken = await _photos_of(session, item)
    if taken >= PHOTOS_PER_ITEM:
        raise TooManyItemPhotos(drop.id, item.position, PHOTOS_PER_ITEM)
    session.add(
        ItemPhoto(
            drop_item_id=item.id,
            position=taken + 1,
            file_id=file_id,
            media_group_id=media_group_id,
        )
    )
    await session.flush()
    return await _media(session, drop, item)


@unit_of_work
async def describe(
    session: AsyncSession, actor: Actor, position: int, text: str, drop_id: int | None = None
) -> ItemMedia:
    """Set (or, with an empty text, clear) an item's description."""
    actor.require_admin()
    check_description(text)
    drop = await _draft(session, actor, drop_id)
    item = await _item(session, drop, position)
    item.description = text.strip() or None
    return await _media(session, drop, item)


@read_only
async def tiles(session: AsyncSession, drop_id: int, first_number: int) -> list[Tile]:
    """The drop picture's tiles, numbered as one community's post numbers them."""
    first_photo = (
        select(ItemPhoto.file_id)
        .where(ItemPhoto.drop_item_id == DropItem.id, ItemPhoto.position == 1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(DropItem.position, DropItem.name, DropItem.price, DropItem.unit, first_photo)
        .where(DropItem.drop_id == drop_id)
        .order_by(DropItem.position)
    )
    return [
        Tile(first_number + position - 1, name, price, unit, file_id)
        for position, name, price, unit, file_id in rows
    ]


@unit_of_work
async def remember_picture(
    session: AsyncSession, drop_id: int, first_number: int, file_id: str
) -> None:
    """The drop picture went out once: later posts send its file id."""
    drop = await session.scalar(select(Drop).where(Drop.id == drop_id).with_for_update())
    if drop is not None:
        drop.picture_file_ids = {**(drop.picture_file_ids or {}), str(first_number): file_id}


@read_only
async def details(
    session: AsyncSession,
    *,
    group_buy_id: int | None = None,
    community_id: int | None = None,
    number: int | None = None,
) -> ItemDetails:
    """An item by its group-buy (a Details button) or by its number in a community."""
    query = group_buys_with_items(GroupBuy, DropItem, Community).join(
        Community, Community.id == GroupBuy.community_id
    )
    if group_buy_id is not None:
        query = query.where(GroupBuy.id == group_buy_id, GroupBuy.number.is_not(None))
    else:
        query = (
            query.where(GroupBuy.community_id == community_id, GroupBuy.number == number)
            .where(GroupBuy.state != GroupBuyState.SCHEDULED)
            # A number is reused once its item has closed: the live one, else the latest.
            .order_by(GroupBuy.state.in_([GroupBuyState.OPEN, GroupBuyState.FORMED]).desc())
            .order_by(GroupBuy.id.desc())
        )
    row = (await session.execute(query.limit(1))).first()
    if row is None:
        raise ItemNotFound(number or 0)
    group_buy, item, community = row
    photos = await session.scalars(
        select(ItemPhoto.file_id)
        .where(ItemPhoto.drop_item_id == item.id)
        .order_by(ItemPhoto.position)
    )
    assert group_buy.pickup_date is not None
    return ItemDetails(
        ItemView.of(group_buy, item),
        CommunityRef.of(community),
        item.description,
        tuple(photos),
        group_buy.pickup_date,
    )


@read_only
async def home_community(session: AsyncSession, user_id: int) -> int | None:
    """The community of a resident's latest order: where a private /item n looks."""
    return await session.scalar(
        select(GroupBuy.community_id)
        .join(Order, Order.group_buy_id == GroupBuy.id)
        .where(Order.user_id == user_id)
        .order_by(Order.id.desc())
        .limit(1)
    )


@read_only
async def community_of(session: AsyncSession, group_buy_id: int) -> CommunityRef | None:
    """The community of a group-buy: where a Join pressed in a private chat joins."""
    row = await session.scalar(
        select(Community)
        .join(GroupBuy, GroupBuy.community_id == Community.id)
        .where(GroupBuy.id == group_buy_id)
    )
    return CommunityRef.of(row) if row is not None else None
