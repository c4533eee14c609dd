"""Thin routers by audience. `get_routers()` gives fresh routers in the order they must run.

Joins are the busiest path (a burst of Join presses after every drop), so the Join button's
router comes first and the resident routers next; the commands of different routers never
overlap, and the fallback stays last.
"""

from __future__ import annotations

from aiogram import Router

from handlers.admin import (
    after_sale,
    applications,
    broadcast,
    communities,
    drops,
    export,
    item_photos,
    refunds,
    settle,
    shipping,
)
from handlers.common import (
    codes_in_group,
    fallback,
    help,
    join_requests,
    lang,
    membership,
    start,
)
from handlers.leader import (
    commission,
    group,
    handover,
    picking,
    point,
    promoters,
    report,
    settings,
    shortage,
    statement,
)
from handlers.resident import (
    apply,
    details,
    invite,
    join,
    nearby,
    orders,
    payments,
    points,
    returns,
)


def get_routers() -> list[Router]:
    return [
        join.buttons_router(),  # the rush's Join presses: no message goes here
        point.router(),  # first of the rest: while a dialog runs, its /cancel and answers win
        returns.router(),
        apply.router(),
        join.router(),
        payments.router(),
        details.router(),
        orders.router(),
        points.router(),
        invite.router(),
        nearby.router(),
        handover.router(),
        picking.router(),
        shortage.router(),
        commission.router(),
        report.router(),
        statement.router(),
        promoters.router(),
        group.router(),
        settings.router(),
        start.router(),
        help.router(),
        lang.router(),
        membership.router(),
        communities.router(),
        drops.router(),
        item_photos.router(),
        broadcast.router(),
        shipping.router(),
        settle.router(),
        refunds.router(),
        export.router(),
        after_sale.router(),
        applications.router(),
        join_requests.router(),
        codes_in_group.router(),  # plain talk in a group: only pickup codes are acted on
        fallback.router(),  # last: only what nobody else handled
    ]
