"""Outbox claims shared by several senders: a live sender keeps its claims, a dead one's go back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.sender import CLAIM_LEASE
from bot.services.kernel import outbox
from bot.services.kernel.outbox import Notice
from bot.services.notices import BroadcastNotice


async def queue_broadcasts(session: AsyncSession, count: int, now: datetime) -> None:
    notices = [Notice(BroadcastNotice(text=f"news {n}"), -1000 - n) for n in range(count)]
    await outbox.enqueue(session, notices, now)
    await session.commit()


async def test_claims_renewed_by_a_heartbeat_are_never_taken_over(
    session: AsyncSession, now: datetime
) -> None:
    await queue_broadcasts(session, 6, now)
    alive = await outbox.claim_due(session, now, 3, "alive")
    dead = await outbox.claim_due(session, now, 3, "dead")
    assert len(alive) == len(dead) == 3
    assert {i.id for i in alive}.isdisjoint(i.id for i in dead)

    # Both went quiet for longer than the lease, but the live sender's heartbeat came first.
    later = now + CLAIM_LEASE + timedelta(seconds=1)
    assert await outbox.renew_claims(session, "alive", later) == 3
    assert await outbox.release_claims(session, later, CLAIM_LEASE) == 3

    # What the dead sender held is due again, for anyone; the live sender's rows stay its own.
    retaken = await outbox.claim_due(session, later, 10, "other")
    assert sorted(i.id for i in retaken) == sorted(i.id for i in dead)
    for item in alive:
        assert await outbox.renew_claim(session, item.id, "alive", later)
    assert not await outbox.renew_claim(session, dead[0].id, "dead", later)  # no longer its own


async def test_a_young_claim_is_left_alone(session: AsyncSession, now: datetime) -> None:
    await queue_broadcasts(session, 2, now)
    await outbox.claim_due(session, now, 2, "busy")
    just_short = now + CLAIM_LEASE - timedelta(seconds=1)
    assert await outbox.release_claims(session, just_short, CLAIM_LEASE) == 0
    assert await outbox.claim_due(session, just_short, 10, "other") == []
