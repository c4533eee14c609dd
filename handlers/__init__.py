"""Thin routers by audience. `get_routers()` gives fresh routers in the order they must run.

Joins are the busiest path (a burst of Join presses after every drop), so the resident routers
come first; the commands of different routers never overlap, and the fallback stays last.
"""

from __future__ import annotations

from aiogram import Router

from handlers.admin import broadcast, communities, drops
from handlers.common import fallback, help, lang, membership, start
from handlers.leader import books, group, handover
from handlers.resident import join, orders


def get_routers() -> list[Router]:
    return [
        join.router(),
        orders.router(),
        handover.router(),
        books.router(),
        group.router(),
        start.router(),
        help.router(),
        lang.router(),
        membership.router(),
        communities.router(),
        drops.router(),
        broadcast.router(),
        fallback.router(),  # last: only what nobody else handled
    ]
