"""The live drop post: which posts need redrawing, what they show now, and their last edit.

A drop post keeps showing, per item, members against the minimum, a "formed" mark and the time
left, and after the deadline the outcome. The database decides what is live, so a restart or a
second instance finds the same posts: a post is live while one of its items is open, or while
one closed after the post was last drawn. What was drawn is kept as a digest (`render_hash`), so
a post whose text would not change is never edited again.

With several instances, an edit is claimed first (`claim_drawing`): one instance at a time holds
a short lease on the post, and none draws it sooner than the gap after its last edit, so the
group's budget is spent as if one instance were editing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.kernel.uow import housekeeping, read_only
from bot.services.ordering.drops import PostView, post_view
from models import Community, DropPost, GroupBuy, GroupBuyState, PostState


@dataclass(frozen=True)
class LivePost:
    post_id: int
    chat_id: int
    language: str
    message_ids: list[int]
    render_hash: str | None
    view: PostView


@read_only
async def live_post_ids(session: AsyncSession) -> list[int]:
    """Posts that may show something out of date: an item still open, or closed since the last
    drawing."""
    closed_since = (
        select(func.max(GroupBuy.closed_at))
        .where(GroupBuy.drop_post_id == DropPost.id)
        .scalar_subquery()
    )
    still_open = exists().where(
        GroupBuy.drop_post_id == DropPost.id, GroupBuy.state == GroupBuyState.OPEN
    )
    rows = await session.scalars(
        select(DropPost.id)
        .join(Community, Community.id == DropPost.community_id)
        .where(
            DropPost.state == PostState.POSTED,
            DropPost.message_ids.is_not(None),
            Community.active.is_(True),
            or_(
                still_open,
                DropPost.edited_at.is_(None) & closed_since.is_not(None),
                DropPost.edited_at < closed_since,
            ),
        )
        .order_by(DropPost.id)
    )
    return list(rows.all())


@read_only
async def live_post(session: AsyncSession, post_id: int) -> LivePost | None:
    """The post with where it stands in its group, or None if it is not (or no longer) out."""
    row = (
        await session.execute(
            select(DropPost, Community)
            .join(Community, Community.id == DropPost.community_id)
            .where(DropPost.id == post_id)
        )
    ).first()
    if row is None:
        return None
    post, community = row
    if post.state is not PostState.POSTED or not post.message_ids or not community.active:
        return None
    view = await post_view(session, post_id)
    if view is None:
        return None
    return LivePost(
        post_id=post.id,
        chat_id=community.chat_id,
        language=community.language,
        message_ids=list(post.message_ids),
        render_hash=post.render_hash,
        view=view,
    )


@housekeeping
async def claim_drawing(
    session: AsyncSession, post_id: int, now: datetime, gap: timedelta, lease: timedelta
) -> bool:
    """Whether this caller may edit the post now: nobody else holds its lease and its last edit
    is at least `gap` ago. The lease lets a killed instance's claim lapse by itself."""
    result = await session.execute(
        update(DropPost)
        .where(
            DropPost.id == post_id,
            or_(DropPost.drawing_until.is_(None), DropPost.drawing_until <= now),
            or_(DropPost.edited_at.is_(None), DropPost.edited_at <= now - gap),
        )
        .values(drawing_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


@housekeeping
async def release_drawing(session: AsyncSession, post_id: int) -> None:
    """The edit did not happen: the post is free to be drawn again at once."""
    await session.execute(
        update(DropPost)
        .where(DropPost.id == post_id)
        .values(drawing_until=None)
        .execution_options(synchronize_session=False)
    )


@housekeeping
async def record_drawing(
    session: AsyncSession, post_id: int, render_hash: str, now: datetime
) -> None:
    """The post now shows what `render_hash` digests; its lease is given back."""
    await session.execute(
        update(DropPost)
        .where(DropPost.id == post_id)
        .values(render_hash=render_hash, edited_at=now, drawing_until=None)
        .execution_options(synchronize_session=False)
    )
