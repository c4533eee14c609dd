"""Photos and descriptions of a draft's items, the drop picture's tiles, item details, and the
daily figures behind /report."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.books import report
from bot.services.community.people import Actor
from bot.services.kernel.errors import (
    DropAlreadyPublished,
    NoDraft,
    NoSuchDraftItem,
    NotAllowed,
    NotAnItemNumber,
    TextTooLong,
    TooManyItemPhotos,
)
from bot.services.ordering import drops, item_media, joins
from bot.services.ordering.drop_format import parse_drop
from models import ItemPhoto
from tests.world import ADMIN, SHANGHAI, make_community, make_resident

DROP = "/drop deadline=+2h\nEggs | 12 | box | desc=Free-range\nMilk | 8\nRice | 30"


async def draft(session: AsyncSession, now: datetime, text: str = DROP) -> int:
    preview = await drops.create_drop(session, ADMIN, parse_drop(text), text, SHANGHAI, now)
    return preview.drop_id


async def photos(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(ItemPhoto)) or 0


async def test_photos_go_to_the_latest_draft_and_an_album_follows_its_caption(
    session: AsyncSession, now: datetime
) -> None:
    await draft(session, now)
    latest = await draft(session, now)
    media = await item_media.add_photo(session, ADMIN, "f1", position=2, media_group_id="album")
    assert (media.drop_id, media.position, media.name, media.photos) == (latest, 2, "Milk", 1)
    # The album's other photos, without a caption, go where the captioned one went.
    media = await item_media.add_photo(session, ADMIN, "f2", media_group_id="album")
    assert (media.position, media.photos) == (2, 2)
    with pytest.raises(NotAnItemNumber):
        await item_media.add_photo(session, ADMIN, "f3", media_group_id="another album")
    with pytest.raises(NotAnItemNumber):
        await item_media.add_photo(session, ADMIN, "f3")
    assert await photos(session) == 2


async def test_refusals_change_nothing(session: AsyncSession, now: datetime) -> None:
    with pytest.raises(NoDraft):
        await item_media.add_photo(session, ADMIN, "f0", position=1)
    drop_id = await draft(session, now)
    with pytest.raises(NoSuchDraftItem) as missing:
        await item_media.add_photo(session, ADMIN, "f0", position=4)
    assert (missing.value.position, missing.value.items) == (4, 3)
    with pytest.raises(NotAllowed):
        await item_media.add_photo(session, Actor(user_id=99, is_admin=False), "f0", position=1)
    for n in range(5):
        await item_media.add_photo(session, ADMIN, f"f{n}", position=1)
    with pytest.raises(TooManyItemPhotos):
        await item_media.add_photo(session, ADMIN, "f5", position=1)
    # The same refusals, checked before anything is added (a file is sent back only if not).
    with pytest.raises(TooManyItemPhotos):
        await item_media.check_photo_target(session, ADMIN, position=1)
    with pytest.raises(NoSuchDraftItem):
        await item_media.check_photo_target(session, ADMIN, position=9)
    await item_media.check_photo_target(session, ADMIN, position=2)
    assert await photos(session) == 5
    # Once published, the drop's picture has gone out: no more photos for it.
    await make_community(session, now)
    await drops.publish(session, ADMIN, drop_id, None, now)
    with pytest.raises(DropAlreadyPublished):
        await item_media.add_photo(session, ADMIN, "f6", drop_id=drop_id, position=2)
    with pytest.raises(NoDraft):  # and it is no longer anyone's latest draft
        await item_media.add_photo(session, ADMIN, "f6", position=2)
    assert await photos(session) == 5


async def test_descriptions_are_set_and_cleared(session: AsyncSession, now: datetime) -> None:
    drop_id = await draft(session, now)
    media = await item_media.describe(session, ADMIN, 2, "  Whole milk, 1 L  ")
    assert media.description == "Whole milk, 1 L"
    media = await item_media.describe(session, ADMIN, 1, "", drop_id)
    assert media.description is None
    with pytest.raises(TextTooLong):
        await item_media.describe(session, ADMIN, 2, "x" * 501)
    media = await item_media.describe(session, ADMIN, 2, "x" * 500)
    assert media.description == "x" * 500


async def test_tiles_and_details_follow_the_posts_numbers(
    session: AsyncSession, now: datetime
) -> None:
    sunny = await make_community(session, now)
    drop_id = await draft(session, now)
    await item_media.add_photo(session, ADMIN, "eggs-1", position=1)
    await item_media.add_photo(session, ADMIN, "eggs-2", position=1)
    await item_media.add_photo(session, ADMIN, "rice-1", position=3)
    await drops.publish(session, ADMIN, drop_id, None, now)

    tiles = await item_media.tiles(session, drop_id, 1)
    assert [(t.number, t.name, t.file_id) for t in tiles] == [
        (1, "Eggs", "eggs-1"),
        (2, "Milk", None),
        (3, "Rice", "rice-1"),
    ]
    assert [t.number for t in await item_media.tiles(session, drop_id, 4)] == [4, 5, 6]

    await make_resident(session, 501, now)
    await joins.join(session, sunny.id, 501, now, number=1, quantity=2)
    details = await item_media.details(session, community_id=sunny.id, number=1)
    assert details.photos == ("eggs-1", "eggs-2")
    assert details.description == "Free-range"
    assert details.item.members == 1
    assert details.community.name == "Sunny Garden"
    by_button = await item_media.details(session, group_buy_id=details.item.group_buy_id)
    assert by_button == details
    assert await item_media.home_community(session, 501) == sunny.id
    assert await item_media.home_community(session, 502) is None

    view = await drops.post_view(session, 1)
    assert view is not None
    assert view.pictured and view.picture is None  # photos, not uploaded yet
    assert [item.has_details for item in view.items] == [True, False, True]
    await item_media.remember_picture(session, drop_id, 1, "picture-file")
    view = await drops.post_view(session, 1)
    assert view is not None and view.picture == "picture-file"


async def test_a_drop_without_photos_stays_text_only(session: AsyncSession, now: datetime) -> None:
    await make_community(session, now)
    drop_id = await draft(session, now, "/drop\nEggs | 12")
    await drops.publish(session, ADMIN, drop_id, None, now)
    view = await drops.post_view(session, 1)
    assert view is not None and not view.pictured and view.picture is None


async def test_daily_figures_count_by_local_day(session: AsyncSession, now: datetime) -> None:
    sunny = await make_community(session, now, name="Sunny")
    river = await make_community(session, now, chat_id=-1002, name="River")
    drop_id = await draft(
        session, now - timedelta(days=2), "/drop deadline=+5d\nEggs | 12\nMilk | 8"
    )
    await drops.publish(session, ADMIN, drop_id, None, now - timedelta(days=2))
    for user in (601, 602, 603):
        await make_resident(session, user, now)
    # Two days ago in Sunny (two orders), yesterday in River, today in Sunny.
    await joins.join(session, sunny.id, 601, now - timedelta(days=2), number=1, quantity=2)
    await joins.join(session, sunny.id, 602, now - timedelta(days=2), number=2)
    await joins.join(session, river.id, 601, now - timedelta(days=1), number=1)
    await joins.join(session, sunny.id, 603, now, number=1)
    await joins.cancel(session, sunny.id, 603, 1, now)  # a cancelled order: not counted

    platform = await report.daily(session, ADMIN, None, 7, SHANGHAI, now)
    assert platform.days == 7 and platform.dates[-1] == now.astimezone(SHANGHAI).date()
    assert platform.total.orders == (0, 0, 0, 0, 2, 1, 0)
    assert platform.total.sales == (0, 0, 0, 0, 3200, 1200, 0)
    assert [s.name for s in platform.communities] == ["Sunny", "River"]  # by sales
    assert platform.best_day == platform.dates[4]

    leader = await report.daily(
        session, Actor(user_id=7, is_admin=False), [river.id], 3, SHANGHAI, now
    )
    assert leader.total.orders == (0, 1, 0)
    with pytest.raises(NotAllowed):
        await report.daily(session, Actor(user_id=7, is_admin=False), None, 3, SHANGHAI, now)
