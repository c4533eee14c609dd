"""Domain refusals. A service raises one of these and its transaction rolls back: nothing changes.

Each carries the facts the user needs to understand the refusal; `handlers/texts/` words them (by subdomain)
in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


class DomainError(Exception):
    """Base of every refusal the user should see explained."""

    def __str__(self) -> str:
        return repr(self)


@dataclass(eq=False)
class NotAllowed(DomainError):
    """The actor lacks the role: `role` is "admin" or "leader"."""

    role: str


@dataclass(eq=False)
class TextTooLong(DomainError):
    """A text to keep or pass on is longer than it may be."""

    limit: int


@dataclass(eq=False)
class NotACommunity(DomainError):
    """The group has not been registered with /register."""


@dataclass(eq=False)
class NoActiveCommunities(DomainError):
    pass


@dataclass(eq=False)
class UserUnknown(DomainError):
    """No such member in this group (for /setleader <user_id>)."""

    user_id: int


@dataclass(eq=False)
class BadQuantity(DomainError):
    maximum: int


@dataclass(eq=False)
class ItemNotFound(DomainError):
    number: int


@dataclass(eq=False)
class ItemClosed(DomainError):
    number: int
    name: str
    state: str  # "open" here means: the deadline passed and closing is under way


@dataclass(eq=False)
class SoldOut(DomainError):
    number: int
    name: str
    left: int


@dataclass(eq=False)
class OverLimit(DomainError):
    number: int
    name: str
    limit: int
    have: int


@dataclass(eq=False)
class NotJoined(DomainError):
    number: int
    name: str


@dataclass(eq=False)
class DropNotFound(DomainError):
    drop_id: int


@dataclass(eq=False)
class BroadcastNotFound(DomainError):
    broadcast_id: int


@dataclass(eq=False)
class DropAlreadyPublished(DomainError):
    drop_id: int
    published_at: datetime


@dataclass(eq=False)
class PickupBeforeDeadline(DomainError):
    """The pickup date would come before the deadline (in `community`, if it is one's time)."""

    pickup_date: date
    deadline: datetime
    community: str | None


@dataclass(eq=False)
class NothingToArrive(DomainError):
    pass


@dataclass(eq=False)
class ItemNotFormed(DomainError):
    number: int
    state: str | None  # None: no such item


@dataclass(eq=False)
class NothingClosed(DomainError):
    pass


@dataclass(eq=False)
class CodeMalformed(DomainError):
    pass


@dataclass(eq=False)
class CodeUnknown(DomainError):
    pass


@dataclass(eq=False)
class CodeUsed(DomainError):
    used_at: datetime
    timezone: str  # the code's community's, for telling the time


@dataclass(eq=False)
class AlreadyLeader(DomainError):
    """An application to lead a point, from someone who leads one."""


@dataclass(eq=False)
class AlreadyApplied(DomainError):
    application_id: int


@dataclass(eq=False)
class ApplicationUnknown(DomainError):
    application_id: int


@dataclass(eq=False)
class ApplicationDecided(DomainError):
    state: str  # approved | rejected | used


@dataclass(eq=False)
class NoLocation(DomainError):
    """/near before the resident ever shared where they are."""


@dataclass(eq=False)
class BadLocation(DomainError):
    """Not a place on Earth: `location=` that does not read as latitude,longitude in range, or a
    pin out of range."""

    given: str


@dataclass(eq=False)
class BadInviteLink(DomainError):
    given: str


@dataclass(eq=False)
class CodesPaused(DomainError):
    """Too many wrong codes in a minute: /pickup and /undo wait this many more minutes."""

    minutes: int


@dataclass(eq=False)
class GoodsNotArrived(DomainError):
    items: list[str]


@dataclass(eq=False)
class NothingToHandOver(DomainError):
    """The code is active but none of its goods can be handed over (e.g. all were short)."""


@dataclass(eq=False)
class NothingToUndo(DomainError):
    pass


@dataclass(eq=False)
class UndoTooLate(DomainError):
    used_at: datetime
    timezone: str


@dataclass(eq=False)
class AmbiguousCommunity(DomainError):
    """A leader of several communities used a community command in a private chat."""

    names: list[str]


@dataclass(eq=False)
class ShortTooMany(DomainError):
    """/short n qty: more units reported missing than are still to be handed over."""

    number: int
    name: str
    available: int


@dataclass(eq=False)
class NothingToShip(DomainError):
    """/shipping: no formed goods for that pickup date (None: none to come at all)."""

    day: date | None


@dataclass(eq=False)
class CommunityUnknown(DomainError):
    """No community with that id (as /communities lists them)."""

    community_id: int


@dataclass(eq=False)
class NothingToSettle(DomainError):
    community: str


@dataclass(eq=False)
class SettleTooMuch(DomainError):
    community: str
    unsettled: int


@dataclass(eq=False)
class AlreadyRequested(DomainError):
    """A cancellation or return of this order is already waiting for an admin."""

    number: int
    name: str


@dataclass(eq=False)
class AlreadyShipped(DomainError):
    """Too late to cancel: the goods of that pickup date have left (or arrived)."""

    day: date


@dataclass(eq=False)
class NotReturnable(DomainError):
    name: str | None
    why: str  # "noreturn" | "not_picked_up"


@dataclass(eq=False)
class ReturnWindowOver(DomainError):
    name: str
    until: datetime
    timezone: str  # the community's, to say when


@dataclass(eq=False)
class TooFewPhotos(DomainError):
    got: int
    need: int


@dataclass(eq=False)
class RequestUnknown(DomainError):
    request_id: int


@dataclass(eq=False)
class RequestDecided(DomainError):
    state: str  # approved | rejected
    at: datetime | None


@dataclass(eq=False)
class NoDraft(DomainError):
    """A photo or a description for a draft drop, and the admin has no draft."""


@dataclass(eq=False)
class NoSuchDraftItem(DomainError):
    """The draft has no item of that number (it has `items`)."""

    drop_id: int
    position: int
    items: int


@dataclass(eq=False)
class TooManyItemPhotos(DomainError):
    drop_id: int
    position: int
    limit: int


@dataclass(eq=False)
class NotAnItemNumber(DomainError):
    """A photo for a draft without "#n" to say which item (and no album sibling that said it)."""


@dataclass(eq=False)
class ImageRefused(DomainError):
    """A file Telegram would not take as a photo: `reason` is "not_image", "too_big" (bytes),
    "too_large" (sides), or "too_narrow" (aspect ratio)."""

    reason: str


# -- Payments in advance --------------------------------------------------------------------


@dataclass(eq=False)
class PaymentsOff(DomainError):
    """`pay=now` on a platform without payments set up (no provider token)."""


@dataclass(eq=False)
class AwaitingPayment(DomainError):
    """A prepaid item the resident reserved and has not paid yet: pay or /cancel first."""

    number: int
    name: str
    quantity: int


@dataclass(eq=False)
class AlreadyPaid(DomainError):
    """A prepaid item the resident paid for: its quantity is what they paid for."""

    number: int
    name: str
    quantity: int


@dataclass(eq=False)
class PaymentRefused(DomainError):
    """A pre-checkout the bot must refuse. `reason`: unknown, not_yours, lapsed, closed, paid,
    amount, currency."""

    reason: str


@dataclass(eq=False)
class RefundNotFound(DomainError):
    """/refunded <id> of a refund that is not owed (unknown, or done already)."""

    refund_id: int
