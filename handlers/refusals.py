"""Every refusal, worded: domain errors from the services and malformed commands.

`explain(error)` is what `RefusalMiddleware` replies with. Returns None for anything that is not a
refusal (a bug), which the middleware logs.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _

from bot.formatting import day, esc, local_time, money
from bot.services.kernel import errors
from bot.services.ordering.drop_format import DropFormatError, Problem
from bot.services.pickup.point import BadPointField
from handlers.parsing import BadUsage, WrongPlace

DROP_FORMAT = (
    "/drop [deadline=HH:MM|+2h] [min=N] [limit=N] [pickup=YYYY-MM-DD|today|tomorrow]\n"
    "&lt;name&gt; | &lt;price&gt; [| &lt;unit&gt;] [| min=N] [| limit=N] [| stock=N] "
    "[| return=48h] [| noreturn] [| nopoints]"
)


def _closed(error: errors.ItemClosed) -> str:
    label = f"#{error.number} <b>{esc(error.name)}</b>"
    return {
        "open": _("{item} has reached its deadline and is closing now."),
        "formed": _("{item} is closed: it formed, and joining has ended."),
        "failed": _("{item} is closed: it did not form."),
        "arrived": _("{item} is closed: its goods have already arrived."),
        "scheduled": _("{item} is not open yet."),
    }.get(error.state, _("{item} is closed.")).format(item=label)


def _not_formed(error: errors.ItemNotFormed) -> str:
    if error.state is None:
        return _("There is no item #{number} here.").format(number=error.number)
    return {
        "open": _("#{number} is still open: close it first (/close {number})."),
        "failed": _("#{number} did not form: there is nothing to deliver."),
        "arrived": _("#{number} was already confirmed as arrived."),
        "scheduled": _("#{number} is not open yet."),
    }.get(error.state, _("#{number} cannot be confirmed now.")).format(number=error.number)


def _drop_format(error: DropFormatError) -> str:
    value = esc(error.value)
    problem = {
        Problem.NO_ITEMS: _("there are no items. Put one item on each line after /drop."),
        Problem.TOO_MANY_ITEMS: _("a drop holds at most {value} items.").format(value=value),
        Problem.BAD_HEADER: _("“{value}” is not an option. Options look like min=3.").format(
            value=value
        ),
        Problem.UNKNOWN_OPTION: _("unknown option “{value}”.").format(value=value),
        Problem.DUPLICATE_OPTION: _("the option {value} is given twice.").format(value=value),
        Problem.BAD_DEADLINE: _(
            "“{value}” is not a deadline: use HH:MM (local time) or +30m, +2h, +1d."
        ).format(value=value),
        Problem.BAD_PICKUP: _(
            "“{value}” is not a pickup date: use YYYY-MM-DD, today or tomorrow."
        ).format(value=value),
        Problem.BAD_COUNT: _("{value}: the number must be a whole number from 1 to 100000.").format(
            value=value
        ),
        Problem.BAD_RETURN_WINDOW: _(
            "{value}: the return window is hours or days, from 1h to 30d (e.g. return=48h)."
        ).format(value=value),
        Problem.MISSING_PRICE: _("“{value}” has no price. Write: name | price").format(value=value),
        Problem.BAD_PRICE: _(
            "“{value}” is not a price: use a number with at most two decimals, e.g. 12.50."
        ).format(value=value),
        Problem.EMPTY_NAME: _("the item has no name."),
        Problem.NAME_TOO_LONG: _("the name “{value}” is too long (100 characters at most).").format(
            value=value
        ),
        Problem.UNIT_TOO_LONG: _("the unit “{value}” is too long (16 characters at most).").format(
            value=value
        ),
    }[error.problem]
    return (
        _("Line {line}: {problem}").format(line=error.line, problem=problem)
        + "\n\n"
        + _("The format is:")
        + f"\n<code>{DROP_FORMAT}</code>"
    )


def _item(number: int, name: str) -> str:
    return f"#{number} <b>{esc(name)}</b>"


def explain(error: Exception, currency: str = "¥") -> str | None:
    match error:
        case BadUsage(usage=usage, problem=problem):
            text = _("Usage: {usage}").format(usage=usage)
            return f"{problem}\n{text}" if problem else text
        case WrongPlace(command=command, needs="group"):
            return _("Use /{command} in your community's group.").format(command=command)
        case WrongPlace(command=command):
            return _("Send /{command} to me in a private chat.").format(command=command)
        case DropFormatError():
            return _drop_format(error)
        case errors.NotAllowed(role="admin"):
            return _("Only platform admins can do that.")
        case errors.NotAllowed():
            return _("Only this community's leader (or a platform admin) can do that.")
        case errors.NotACommunity():
            return _(
                "This group is not a community yet. "
                "A platform admin can register it with /register."
            )
        case errors.NoActiveCommunities():
            return _("There are no active communities yet: add me to a group and /register it.")
        case errors.UserUnknown(user_id=user_id):
            return _(
                "I can't find user {user_id} in this group. "
                "Reply to one of their messages with /setleader instead."
            ).format(user_id=user_id)
        case errors.BadQuantity(maximum=maximum):
            return _("The quantity must be a whole number from 1 to {maximum}.").format(
                maximum=maximum
            )
        case errors.ItemNotFound(number=number):
            return _("There is no item #{number} here. /today lists the open items.").format(
                number=number
            )
        case errors.ItemClosed():
            return _closed(error)
        case errors.SoldOut(number=number, name=name, left=0):
            return _("Sorry, {item} is sold out.").format(item=_item(number, name))
        case errors.SoldOut(number=number, name=name, left=left):
            return _("Only {left} of {item} are left: join with a smaller quantity.").format(
                left=left, item=_item(number, name)
            )
        case errors.OverLimit(number=number, name=name, limit=limit, have=have):
            return _("{item} is limited to {limit} per resident; you have {have}.").format(
                item=_item(number, name), limit=limit, have=have
            )
        case errors.NotJoined(number=number, name=name):
            return _("You have not joined {item}.").format(item=_item(number, name))
        case errors.DropNotFound(drop_id=drop_id):
            return _("There is no drop {drop_id}.").format(drop_id=drop_id)
        case errors.BroadcastNotFound(broadcast_id=broadcast_id):
            return _("There is no broadcast {broadcast_id}.").format(broadcast_id=broadcast_id)
        case errors.DropAlreadyPublished(drop_id=drop_id):
            return _(
                "Drop {drop_id} was already published. Write a new /drop to post again."
            ).format(drop_id=drop_id)
        case errors.PickupBeforeDeadline(pickup_date=pickup, deadline=deadline, community=where):
            text = _(
                "The pickup date {pickup} would come before the deadline ({deadline}). "
                "Choose a later pickup date or an earlier deadline."
            ).format(pickup=day(pickup), deadline=deadline.strftime("%Y-%m-%d %H:%M UTC"))
            if where:
                text += "\n" + _("(In {community}.)").format(community=esc(where))
            return text
        case errors.NothingToArrive():
            return _("There are no formed items waiting for their goods.")
        case errors.ItemNotFormed():
            return _not_formed(error)
        case errors.NothingClosed():
            return _("There are no closed items to list yet.")
        case errors.NothingToShip(day=shipping_day):
            if shipping_day is None:
                return _("No formed goods are waiting to be shipped.")
            return _("Nothing formed is to be picked up on {day}.").format(day=day(shipping_day))
        case errors.CommunityUnknown(community_id=community_id):
            return _("There is no community {id}: /communities lists them with their ids.").format(
                id=community_id
            )
        case errors.NothingToSettle(community=name):
            return _(
                "Nothing to settle: the leader of {community} has no unsettled commission."
            ).format(community=esc(name))
        case errors.SettleTooMuch(community=name, unsettled=unsettled):
            return _("Only {amount} is unsettled for {community}: pay at most that.").format(
                amount=money(unsettled, currency), community=esc(name)
            )
        case errors.AlreadyRequested(number=number, name=name):
            return _(
                "A request about #{number} <b>{name}</b> is already waiting for the platform."
            ).format(number=number, name=esc(name))
        case errors.AlreadyShipped(day=shipped_day):
            return _(
                "Too late to cancel: the goods for {day} are already on their way. After pickup "
                "you can ask for a return with /return."
            ).format(day=day(shipped_day))
        case errors.NotReturnable(name=name, why="noreturn"):
            return _("<b>{name}</b> cannot be returned (it was sold as no returns).").format(
                name=esc(name or "")
            )
        case errors.NotReturnable():
            return _("Only goods you have picked up can be returned.")
        case errors.ReturnWindowOver(name=name, until=until, timezone=timezone):
            return _("The return window of <b>{name}</b> ended at {time}.").format(
                name=esc(name), time=local_time(until, ZoneInfo(timezone))
            )
        case errors.TooFewPhotos(got=got, need=need):
            return _("Send at least {need} photos first (you sent {got}).").format(
                need=need, got=got
            )
        case errors.RequestUnknown():
            return _("That request no longer exists.")
        case errors.RequestDecided(state=state):
            return (
                _("That request was already approved.")
                if state == "approved"
                else _("That request was already rejected.")
            )
        case errors.ShortTooMany(number=number, name=name, available=available):
            return _(
                "Only {available} of #{number} <b>{name}</b> are still to be handed over: "
                "that is the most that can be short."
            ).format(available=available, number=number, name=esc(name))
        case errors.CodeMalformed():
            return _("A pickup code is exactly 7 digits, e.g. <code>/pickup 1234567</code>.")
        case errors.CodeUnknown():
            return _("No such pickup code. Check the digits with the resident.")
        case errors.CodeUsed(used_at=used_at, timezone=timezone):
            return _(
                "This code was already used at {time}: everything on it has been handed over."
            ).format(time=local_time(used_at, ZoneInfo(timezone)))
        case errors.CodeOtherCommunity():
            return _("This code belongs to another community's pickup point; it is not valid here.")
        case errors.GoodsNotArrived(items=items):
            return _(
                "Not yet: the goods for this code have not been confirmed as arrived ({items}). "
                "The leader confirms them with /arrived."
            ).format(items=esc(", ".join(items)))
        case errors.NothingToHandOver():
            return _("Nothing is left to hand over against this code.")
        case errors.NothingToUndo():
            return _("There is no handover to undo for this code.")
        case errors.UndoTooLate(used_at=used_at, timezone=timezone):
            return _(
                "Too late to undo: that handover was at {time}, more than an hour ago."
            ).format(time=local_time(used_at, ZoneInfo(timezone)))
        case BadPointField(key=key, limit=None):
            return _(
                "Unknown field “{key}”. Fields: province, city, district, address, hours, "
                "contact, phone, route, region, notes."
            ).format(key=esc(key))
        case BadPointField(key=key, limit=limit):
            return _("The {key} is too long: {limit} characters at most.").format(
                key=esc(key), limit=limit
            )
        case errors.AmbiguousCommunity(names=names):
            return _(
                "You lead several communities ({names}). Use this command in the group you mean."
            ).format(names=esc(", ".join(names)))
    return None
