"""The states of DOMAIN.md, stored as short strings."""

from __future__ import annotations

from enum import StrEnum


class DropState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class PostState(StrEnum):
    """One drop posted to one community."""

    SCHEDULED = "scheduled"
    POSTED = "posted"


class GroupBuyState(StrEnum):
    """One item in one community."""

    SCHEDULED = "scheduled"  # its drop post is not out yet
    OPEN = "open"
    FORMED = "formed"
    FAILED = "failed"
    ARRIVED = "arrived"


class OrderState(StrEnum):
    """One resident in one group-buy."""

    RESERVED = "reserved"  # prepaid item: quantity held until paid (or it lapses)
    LAPSED = "lapsed"  # prepaid item: not paid in time; quantity released
    JOINED = "joined"  # a member (in a prepaid item: paid)
    CANCELLED = "cancelled"
    CONFIRMED = "confirmed"  # the group-buy formed
    FAILED = "failed"  # the group-buy did not form; nothing is owed
    READY = "ready"  # goods at the pickup point
    PICKED_UP = "picked_up"
    SHORT = "short"  # not delivered, refunded
    RETURNED = "returned"


class CodeState(StrEnum):
    ACTIVE = "active"
    USED = "used"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by the sender, on its way to Telegram
    BLOCKED = "blocked"  # the recipient never started the bot or blocked it; waits for /start
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"  # a broadcast the admin stopped
