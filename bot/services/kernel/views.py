"""Plain views of the domain shared by several services, and the joins they are read with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from models import DropItem, GroupBuy, GroupBuyState, Order


@dataclass(frozen=True)
class Joiner:
    """One of the latest members of an item, as a 接龙 list shows them."""

    seq: int
    name: str
    quantity: int


@dataclass(frozen=True)
class ItemView:
    """One group-buy as residents see it: on a drop post and in /today."""

    group_buy_id: int
    number: int
    name: str
    unit: str | None
    price: int
    members: int
    min_members: int
    purchase_limit: int | None
    stock_left: int | None
    state: GroupBuyState
    deadline: datetime
    returnable: bool
    earns_points: bool
    latest: tuple[Joiner, ...] = ()  # the latest members, oldest first (drop posts only)
    photos: int = 0  # product photos (drop posts only)
    described: bool = False  # it has a description

    @property
    def has_details(self) -> bool:
        """Worth a Details button: there is more to see than the post shows."""
        return self.photos > 0 or self.described

    @classmethod
    def of(
        cls,
        group_buy: GroupBuy,
        item: DropItem,
        latest: tuple[Joiner, ...] = (),
        photos: int = 0,
    ) -> ItemView:
        assert group_buy.number is not None  # both are set when its post goes out
        assert group_buy.deadline is not None
        return cls(
            group_buy_id=group_buy.id,
            number=group_buy.number,
            name=item.name,
            unit=item.unit,
            price=group_buy.unit_price,
            members=group_buy.members,
            min_members=group_buy.min_members,
            purchase_limit=group_buy.purchase_limit,
            stock_left=item.stock_left,
            state=group_buy.state,
            deadline=group_buy.deadline,
            returnable=item.returnable,
            earns_points=item.earns_points,
            latest=latest,
            photos=photos,
            described=bool(item.description),
        )


def group_buys_with_items(*columns: Any) -> Select[Any]:
    """SELECT … FROM group_buys JOIN drop_items: a group-buy with its item."""
    return select(*columns).join(DropItem, DropItem.id == GroupBuy.drop_item_id)


def orders_with_items(*columns: Any) -> Select[Any]:
    """SELECT … FROM orders JOIN group_buys JOIN drop_items: an order with what was ordered."""
    return (
        select(*columns)
        .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
        .join(DropItem, DropItem.id == GroupBuy.drop_item_id)
    )
