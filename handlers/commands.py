"""The contract's commands by audience: /help lists them and Telegram's menu shows them."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy  # type: ignore[attr-defined]

Command = tuple[str, str, LazyProxy]  # name, arguments, what it does

RESIDENT_GROUP: list[Command] = [
    ("join", "n [qty]", __("join item n (again: add to the quantity)")),
    ("cancel", "n", __("leave item n while it is open")),
    ("today", "", __("the open items")),
    ("item", "n", __("item n's photos and details (answered privately)")),
    ("mine", "", __("your orders (answered privately)")),
    ("where", "", __("the pickup point on the map")),
    ("help", "", __("what you can do here")),
]
RESIDENT_PRIVATE: list[Command] = [
    ("mine", "", __("your orders and their states")),
    ("codes", "", __("your pickup codes, where and what for")),
    ("item", "n", __("an item's photos and details (of your community)")),
    ("points", "", __("your points and their history")),
    ("return", "", __("return a picked-up item (with photos)")),
    ("invite", "", __("your personal invite link")),
    ("near", "", __("pickup points near you (share your location)")),
    ("where", "", __("your pickup points on the map")),
    ("apply", "", __("apply to lead a new pickup point")),
    ("lang", "en|zh", __("your language")),
    ("help", "", __("what you can do here")),
]
LEADER: list[Command] = [
    ("summary", "[YYYY-MM-DD]", __("the picking list of the latest closed items (with CSV)")),
    ("arrived", "[n …]", __("the goods have arrived: tell every buyer")),
    ("pickup", "code", __("hand goods over against a pickup code")),
    ("undo", "code", __("undo a handover (within 1 hour)")),
    ("unpicked", "", __("residents whose goods are waiting")),
    ("remind", "", __("remind them privately")),
    ("close", "n", __("close item n now (in the group)")),
    (
        "setpoint",
        "[key=value …]",
        __("the pickup point: address, hours, phone… (alone: step by step)"),
    ),
    ("settings", "[key=value …]", __("language, time zone, deadline nudges, pickup reminder")),
    ("short", "n qty", __("goods missing on arrival: tell the buyers, owe nothing")),
    (
        "commission",
        "",
        __("your commission: earned, settled, unsettled, this month (with a chart)"),
    ),
    ("report", "[days]", __("orders and sales per day, with a chart (30 days if left out)")),
    ("statement", "[YYYY-MM]", __("a month's commission statement (with CSV)")),
    ("promoters", "", __("who brought residents here, and what they bought")),
    ("lang", "en|zh", __("the group's language (in the group)")),
]
ADMIN: list[Command] = [
    ("register", "[name]", __("make this group a community (in the group)")),
    ("setleader", "[user_id]", __("make someone the leader (reply to them, in the group)")),
    ("drop", "…", __("draft the day's items (privately; photos: captioned #n)")),
    ("publish", "drop_id [HH:MM]", __("post a drop to every community, now or at a time")),
    ("broadcast", "text", __("post news to every community")),
    ("communities", "", __("every community at a glance, with the platform's chart")),
    ("report", "[days]", __("the platform's orders and sales per day, with a chart")),
    ("shipping", "[YYYY-MM-DD]", __("what to load for each pickup point, by route (with CSV)")),
    ("settle", "community_id [amount]", __("record a commission payout to a leader")),
    ("export", "[from] [to]", __("the orders of a period as CSV")),
    ("refunds", "", __("refunds owed to residents who paid in advance, oldest first")),
    ("refunded", "id|YYYY-MM-DD|all", __("mark refunds made at the payment provider")),
    ("status", "", __("the health of delivery: queue, failures, 429s")),
    ("applications", "", __("applications to lead a pickup point, to decide")),
]
