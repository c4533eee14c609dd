"""SQLAlchemy tables of tuanbot. Importing this package registers every table on `Base.metadata`."""

from models.after_sale import AfterSaleRequest, RequestKind, RequestState, Shipment
from models.base import Base, UTCDateTime
from models.books import LedgerEntry, LedgerKind
from models.dialogs import Dialog
from models.drops import DESCRIPTION_LIMIT, PHOTOS_PER_ITEM, Drop, DropItem, DropPost, ItemPhoto
from models.enums import CodeState, DropState, GroupBuyState, OrderState, OutboxState, PostState
from models.group_buys import GroupBuy, Handover, Order, PickupCode, WrongCode
from models.outbox import Broadcast, DeliveryEvent, InboxUpdate, OutboxMessage
from models.payments import Payment, Refund, RefundReason
from models.people import DEFAULT_COMMISSION_RATE, Community, User
from models.recruiting import ApplicationState, LeaderApplication, Referral

__all__ = [
    "DEFAULT_COMMISSION_RATE",
    "DESCRIPTION_LIMIT",
    "PHOTOS_PER_ITEM",
    "AfterSaleRequest",
    "ApplicationState",
    "Base",
    "Broadcast",
    "CodeState",
    "Community",
    "DeliveryEvent",
    "Dialog",
    "Drop",
    "DropItem",
    "DropPost",
    "DropState",
    "GroupBuy",
    "GroupBuyState",
    "Handover",
    "InboxUpdate",
    "ItemPhoto",
    "LeaderApplication",
    "LedgerEntry",
    "LedgerKind",
    "Order",
    "OrderState",
    "OutboxMessage",
    "OutboxState",
    "Payment",
    "PickupCode",
    "PostState",
    "Referral",
    "Refund",
    "RefundReason",
    "RequestKind",
    "RequestState",
    "Shipment",
    "UTCDateTime",
    "User",
    "WrongCode",
]
