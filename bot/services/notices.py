"""Every message the bot queues: its kind, its priority, and its typed payload.

A service builds one of the payloads below and queues it (`outbox.enqueue`); the payload is
stored as JSON and read back into the same type when the sender claims the row, so a wrong or
missing field is a type error where the notice is written, not a `KeyError` at sending time. A
stored row that no longer reads as its kind is failed once, with the reason, and not retried.

The fields are named as the rows queued before payloads were typed, so those rows still read
(the one older shape, a free-text `pickup_point`, is read too).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.services.pickup.point import PickupPoint


class Kind(StrEnum):
    DROP_POST = "drop_post"  # the drop's items with Join buttons, in a community group
    CLOSED = "closed"  # private: your group-buys closed (formed with your code, or failed)
    CLOSED_GROUP = "closed_group"  # group: which items formed
    READY = "ready"  # private: goods at the pickup point, with your code
    REMINDER = "reminder"  # private: please pick up
    UNREACHABLE = "unreachable"  # group: these members must start the bot first
    BROADCAST = "broadcast"  # group: an admin's news
    BROADCAST_REPORT = "broadcast_report"  # private, to the admin: sent / failed
    ADMIN_ALERT = "admin_alert"  # private, to each admin: Telegram refused a message (400)
    NUDGE = "nudge"  # group: items still short of their minimum near the deadline
    SHORT = "short"  # private: part of your order did not arrive (/short); nothing is owed for it
    PAYOUT = "payout"  # private, to the leader: the platform paid out commission (/settle)
    DECISION = "decision"  # private, to the resident: an admin decided a cancellation or return
    AFTER_SALE = "after_sale"  # private, to each admin: a cancellation or return to decide
    CODE_GUESSING = "code_guessing"  # private, to each admin: someone typed many wrong codes
    GROUP_ACK = "group_ack"  # group: typed joins of members the bot cannot write to, together
    LEADER_APPLICATION = "leader_application"  # private, to each admin: someone applies to lead
    APPLICATION_DECISION = "application_decision"  # private, to the applicant
    WELCOME = "welcome"  # group: neighbours who found it nearby and were let in
    INVOICE = "invoice"  # private: pay for your reservation (Telegram Payments)
    LAPSED = "lapsed"  # private: your reservation was not paid in time and was released
    REFUNDED = "refunded"  # private: the refund you were owed was made


# Lower goes first. Codes and arrival news before posts; broadcasts last.
PRIORITY: dict[Kind, int] = {
    Kind.INVOICE: 5,
    Kind.CLOSED: 10,
    Kind.LAPSED: 10,
    Kind.REFUNDED: 30,
    Kind.READY: 10,
    Kind.SHORT: 10,
    Kind.CLOSED_GROUP: 20,
    Kind.DROP_POST: 20,
    Kind.GROUP_ACK: 24,
    Kind.UNREACHABLE: 25,
    Kind.NUDGE: 25,
    Kind.BROADCAST_REPORT: 30,
    Kind.PAYOUT: 30,
    Kind.DECISION: 30,
    Kind.AFTER_SALE: 30,
    Kind.ADMIN_ALERT: 30,
    Kind.CODE_GUESSING: 30,
    Kind.LEADER_APPLICATION: 30,
    Kind.APPLICATION_DECISION: 30,
    Kind.WELCOME: 26,
    Kind.REMINDER: 40,
    Kind.BROADCAST: 60,
}

# Rows of these kinds waiting for the same chat go out as one message.
COALESCED: frozenset[Kind] = frozenset(
    {Kind.UNREACHABLE, Kind.ADMIN_ALERT, Kind.GROUP_ACK, Kind.WELCOME}
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Payload(_Frozen):
    """What one queued message is about; `KIND` says which kind of message it is."""

    KIND: ClassVar[Kind]

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class _AtThePoint(Payload):
    """A private message that says where to go."""

    community: str
    point: dict[str, str] | None = None
    pickup_point: str | None = None  # rows queued before the point was a record: free text

    @property
    def where(self) -> PickupPoint:
        return PickupPoint.from_payload(self.point or self.pickup_point)


# -- Ordering -------------------------------------------------------------------------------


class DropPostNotice(Payload):
    KIND = Kind.DROP_POST
    post_id: int


class ClosedLine(_Frozen):
    number: int
    name: str
    unit: str | None = None
    quantity: int
    amount: int
    members: int
    min_members: int


class FormedCode(_Frozen):
    code: str
    pickup_date: date
    items: list[ClosedLine]


class ClosedNotice(_AtThePoint):
    KIND = Kind.CLOSED
    formed: list[FormedCode]
    failed: list[ClosedLine]


class ClosedGroupLine(_Frozen):
    number: int
    name: str
    formed: bool
    members: int
    min_members: int


class ClosedGroupNotice(Payload):
    KIND = Kind.CLOSED_GROUP
    items: list[ClosedGroupLine]


class NudgeLine(_Frozen):
    number: int
    name: str
    more: int  # members still needed


class NudgeNotice(Payload):
    KIND = Kind.NUDGE
    items: list[NudgeLine]
    deadline: datetime
    timezone: str


class GroupAckNotice(Payload):
    """To a group: a member's typed /join or /cancel, confirmed there because the bot cannot
    write to them privately (several go out as one message)."""

    KIND = Kind.GROUP_ACK
    user_id: int
    name: str
    action: str  # "joined" | "added" | "reserved" (prepaid) | "left" | "asked" (needs the admins)
    number: int
    item: str
    quantity: int
    seq: int | None = None


class ShortLine(_Frozen):
    order_id: int
    number: int
    name: str
    quantity: int  # ordered
    short: int  # did not arrive
    kept: int  # still to hand over


class ShortNotice(Payload):
    KIND = Kind.SHORT
    community: str
    items: list[ShortLine]
    refund: int  # not owed, minor units
    paid_back: int = 0  # of it, paid in advance: owed back to the resident


# -- Pickup ---------------------------------------------------------------------------------


class ReadyLine(_Frozen):
    number: int
    name: str
    unit: str | None = None
    quantity: int


class PlaceLine(_Frozen):
    """The pickup point on the map."""

    latitude: float
    longitude: float
    title: str
    address: str


class ReadyNotice(_AtThePoint):
    KIND = Kind.READY
    code: str
    pickup_date: date
    items: list[ReadyLine]
    place: PlaceLine | None = None  # sent as a venue after the message, when the point has a pin


class ReminderNotice(ReadyNotice):
    KIND = Kind.REMINDER


class CodeGuessingNotice(Payload):
    """To each admin: someone typed many wrong pickup codes and is paused."""

    KIND = Kind.CODE_GUESSING
    user_id: int
    name: str
    community: str | None = None
    wrong: int  # wrong codes within the window
    until: datetime
    timezone: str


# -- After-sale -----------------------------------------------------------------------------


class AfterSaleNotice(Payload):
    """To each admin: a cancellation or a return to decide."""

    KIND = Kind.AFTER_SALE
    request_id: int
    kind: str  # "cancel" | "return"
    community: str
    resident: str
    resident_id: int
    number: int
    name: str
    unit: str | None = None
    quantity: int
    amount: int
    pickup_date: date
    reason: str | None = None
    photos: list[str] = []


class DecisionNotice(Payload):
    """To the resident: what an admin decided."""

    KIND = Kind.DECISION
    kind: str  # "cancel" | "return"
    approved: bool
    community: str
    number: int
    name: str
    amount: int


# -- Payments in advance ----------------------------------------------------------------------


class InvoiceNotice(Payload):
    """The invoice of one reservation, drawn when it is sent: nothing goes once it is not held."""

    KIND = Kind.INVOICE
    order_id: int


class LapsedNotice(Payload):
    KIND = Kind.LAPSED
    community: str
    number: int
    name: str
    quantity: int


class RefundedNotice(Payload):
    KIND = Kind.REFUNDED
    community: str
    number: int
    name: str
    amount: int
    currency: str


# -- Books ----------------------------------------------------------------------------------


class PayoutNotice(Payload):
    KIND = Kind.PAYOUT
    community: str
    amount: int
    unsettled: int


# -- Finding a community, recruiting leaders ---------------------------------------------------


class LeaderApplicationNotice(Payload):
    """To each admin: an application to lead a new pickup point, to decide."""

    KIND = Kind.LEADER_APPLICATION
    application_id: int
    user_id: int
    applicant: str
    place: str
    address: str
    phone: str
    about: str
    latitude: float | None = None
    longitude: float | None = None


class ApplicationDecisionNotice(Payload):
    KIND = Kind.APPLICATION_DECISION
    place: str
    approved: bool


class WelcomeNotice(Payload):
    """To a group: a neighbour who found it through the bot was let in."""

    KIND = Kind.WELCOME
    user_id: int
    name: str


# -- Community and delivery -----------------------------------------------------------------


class BroadcastNotice(Payload):
    KIND = Kind.BROADCAST
    text: str


class BroadcastReportNotice(Payload):
    KIND = Kind.BROADCAST_REPORT
    broadcast_id: int


class UnreachableNotice(Payload):
    """To a group: this member must open the private chat first."""

    KIND = Kind.UNREACHABLE
    user_id: int
    name: str


class AdminAlertNotice(Payload):
    """To each admin: Telegram refused a message as malformed."""

    KIND = Kind.ADMIN_ALERT
    kind: str
    chat_id: int
    error: str


TYPES: dict[Kind, type[Payload]] = {
    t.KIND: t
    for t in (
        DropPostNotice,
        ClosedNotice,
        ClosedGroupNotice,
        NudgeNotice,
        GroupAckNotice,
        ShortNotice,
        ReadyNotice,
        ReminderNotice,
        CodeGuessingNotice,
        AfterSaleNotice,
        DecisionNotice,
        PayoutNotice,
        BroadcastNotice,
        BroadcastReportNotice,
        UnreachableNotice,
        AdminAlertNotice,
        LeaderApplicationNotice,
        ApplicationDecisionNotice,
        WelcomeNotice,
        InvoiceNotice,
        LapsedNotice,
        RefundedNotice,
    )
}


class Unreadable(Exception):
    """A stored payload that does not read as its kind (its reason is kept on the row)."""


def read(kind: str, stored: Any) -> Payload:
    """A stored row's payload as its type."""
    try:
        return TYPES[Kind(kind)].model_validate(stored)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in error.errors()
        )
        raise Unreadable(f"unreadable {kind} payload: {problems}") from error
    except ValueError as error:  # a kind this version does not know
        raise Unreadable(f"unknown kind {kind!r}") from error
