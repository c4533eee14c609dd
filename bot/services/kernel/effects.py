"""Effects after commit: what a transaction did that the rest of the bot must act on.

A service records, in its own transaction, what happened beyond the rows it wrote: messages
were queued (the sender should look now rather than at its next poll), a drop post shows
something new (the refresher should redraw it), a moment became due (the timekeeper should wake
then). The unit of work (`uow.py`) collects these per transaction and, only once the transaction
has committed, hands them to the listeners wired once at start-up (`EffectBus`, held by the
session factory). After a rollback nothing is handed on: a refused join redraws nothing.

Handlers therefore never poke the sender, the refresher or the timekeeper; and a service called
from the timekeeper, a test or a benchmark behaves the same (with no bus, nothing listens).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

BUS = "tuanbot_effect_bus"  # session.info key: the bus, set by the session factory
_COLLECTED = "tuanbot_effects"  # session.info key: the open transaction's effects


@dataclass
class Effects:
    """What one committed transaction asks of the rest of the bot."""

    queued: bool = False  # outbox messages were queued or released
    posts: set[int] = field(default_factory=set)  # drop posts to redraw
    moments: set[datetime] = field(default_factory=set)  # moments to wake at

    def __bool__(self) -> bool:
        return self.queued or bool(self.posts) or bool(self.moments)


Listener = Callable[[Effects], None]


class EffectBus:
    """The listeners of committed effects, wired once at start-up."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, effects: Effects) -> None:
        for listener in self._listeners:
            try:
                listener(effects)
            except Exception:
                # The change is committed whatever a listener does; the sender, refresher and
                # timekeeper also find the work on their own (polls, scans, sweeps).
                log.exception("an effect listener failed")


# -- For services: record what happened, inside a unit of work -------------------------------


def _collector(session: AsyncSession) -> Effects:
    effects = session.info.get(_COLLECTED)
    if effects is None:
        # Outside a unit of work (a raw test transaction): nobody would hand these on.
        return Effects()
    assert isinstance(effects, Effects)
    return effects


def queued(session: AsyncSession) -> None:
    """Outbox messages were queued (or released) in this transaction."""
    _collector(session).queued = True


def redraw(session: AsyncSession, post_ids: Iterable[int]) -> None:
    """These drop posts show something new once this transaction commits."""
    _collector(session).posts.update(post_ids)


def wake_at(session: AsyncSession, moments: Iterable[datetime]) -> None:
    """Something falls due at each of these moments (a deadline, a post time, a nudge)."""
    _collector(session).moments.update(moments)


# -- For the unit of work ---------------------------------------------------------------------


def begin(session: AsyncSession) -> None:
    session.info[_COLLECTED] = Effects()


def discard(session: AsyncSession) -> None:
    session.info.pop(_COLLECTED, None)


def committed(session: AsyncSession) -> None:
    """The transaction committed: hand its effects to the listeners."""
    effects = session.info.pop(_COLLECTED, None)
    bus = session.info.get(BUS)
    if effects and isinstance(bus, EffectBus):
        bus.publish(effects)
