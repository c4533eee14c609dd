"""The contract's commands by audience: /help lists them and Telegram's menu shows them."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy  # type: ignore[attr-defined]

Command = tuple[str, str, LazyProxy]  # name, arguments, what it does

RESIDENT_GROUP: list[Command] = [
    ("join", "n [qty]", __("join item n (again: add to the quantity)")),
    ("cancel", "n", __("leave item n while it is open")),
    ("today", "", __("the open items")),
    ("mine", "", __("your orders (answered privately)")),
    ("help", "", __("what you can do here")),
]
RESIDENT_PRIVATE: list[Command] = [
    ("mine", "", __("your orders and their states")),
    ("codes", "", __("your pickup codes, where and what for")),
    ("lang", "en|zh", __("your language")),
    ("help", "", __("what you can do here")),
]
LEADER: list[Command] = [
    ("summary", "[YYYY-MM-DD]", __("the picking list of the latest closed items")),
    ("arrived", "[n …]", __("the goods have arrived: tell every buyer")),
    ("pickup", "code", __("hand goods over against a pickup code")),
    ("undo", "code", __("undo a handover (within 1 hour)")),
    ("unpicked", "", __("residents whose goods are waiting")),
    ("remind", "", __("remind them privately")),
    ("close", "n", __("close item n now (in the group)")),
    ("setpoint", "text", __("the pickup point: address, hours, phone (in the group)")),
    ("lang", "en|zh", __("the group's language (in the group)")),
]
ADMIN: list[Command] = [
    ("register", "[name]", __("make this group a community (in the group)")),
    ("setleader", "[user_id]", __("make someone the leader (reply to them, in the group)")),
    ("drop", "…", __("draft the day's items (privately)")),
    ("publish", "drop_id [HH:MM]", __("post a drop to every community, now or at a time")),
    ("broadcast", "text", __("post news to every community")),
    ("communities", "", __("every community at a glance")),
    ("status", "", __("the health of delivery: queue, failures, 429s")),
]
