"""An item's stock, shared by every community: taken and given back only by conditional UPDATEs,
so concurrent joins, cancellations, lapses and closings never oversell or lose a unit."""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import DropItem

_items = cast(Table, DropItem.__table__)


@functools.cache
def take_stock() -> Any:
    """Takes p_quantity from item p_item_id's shared stock; no row when not enough is left.
    Built once with bind parameters (a join runs it; public so a benchmark can time it)."""
    return (
        update(_items)
        .where(
            _items.c.id == bindparam("p_item_id"),
            or_(_items.c.stock_left.is_(None), _items.c.stock_left >= bindparam("p_quantity")),
        )
        .values(stock_left=_items.c.stock_left - bindparam("p_quantity"))
        .returning(_items.c.stock_left, _items.c.name, _items.c.unit)
    )


async def take(session: AsyncSession, item_id: int, quantity: int) -> Row[Any] | None:
    """(stock_left, name, unit) after taking `quantity`; None when not enough is left."""
    return (
        await session.execute(take_stock(), {"p_item_id": item_id, "p_quantity": quantity})
    ).first()


async def give_back(session: AsyncSession, item_id: int, quantity: int) -> None:
    """Units that will not be sold after all (a cancellation, a lapse, a failed item)."""
    await session.execute(
        update(DropItem)
        .where(DropItem.id == item_id, DropItem.stock_left.is_not(None))
        .values(stock_left=DropItem.stock_left + quantity)
        .execution_options(synchronize_session=False)
    )
