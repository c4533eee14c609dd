"""Thin routers by audience. `get_routers()` gives fresh routers in the order they must run."""

from __future__ import annotations

from aiogram import Router

from handlers.admin import broadcast, communities, drops
from handlers.common import fallback, help, lang, membership, start
from handlers.leader import books, group, handover
from handlers.resident import join, orders


def get_routers() -> list[Router]:
    return [
        membership.router(),
        start.router(),
        help.router(),
        lang.router(),
        communities.router(),
        drops.router(),
        broadcast.router(),
        group.router(),
        books.router(),
        handover.router(),
        join.router(),
        orders.router(),
        fallback.router(),  # last: only what nobody else handled
    ]
