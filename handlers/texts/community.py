"""Communities and roles, broadcasts, and what delivery tells people; and their refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.formatting import esc, mention, quote
from bot.services.community.broadcasts import Progress
from bot.services.community.nearby import Nearby, Search
from bot.services.kernel import errors
from bot.services.notices import (
    AdminAlertNotice,
    ApplicationDecisionNotice,
    LeaderApplicationNotice,
    UnreachableNotice,
    WelcomeNotice,
)


def broadcast_status(progress: Progress, now: datetime) -> str:
    """The admin's status message: progress while it goes out, the report once it is done."""
    if progress.finished:
        head = (
            _(
                "📢 Broadcast {id} stopped: {sent} of {total} sent, {failed} failed, {cancelled} not sent."
            )
            if progress.stopped_at
            else _("📢 Broadcast {id} finished: {sent} of {total} sent, {failed} failed.")
        )
    else:
        head = _("📢 Broadcast {id}: {sent} of {total} sent, {failed} failed…")
    out = [
        head.format(
            id=progress.broadcast_id,
            sent=progress.sent,
            total=progress.total,
            failed=progress.failed,
            cancelled=progress.cancelled,
        )
    ]
    left = progress.time_left(now)
    if not progress.finished and left is not None:
        out.append(_("About {seconds}s left.").format(seconds=max(1, int(left.total_seconds()))))
    out += [f"• {esc(name)}: {esc(error)}" for name, error in progress.failures]
    return "\n".join(out)


def broadcast(text: str) -> str:
    return "📢 " + esc(text)


def unreachable(notices: Sequence[UnreachableNotice]) -> str:
    """To a group: these members must open the private chat before I can write to them."""
    people = {notice.user_id: notice.name for notice in notices}
    names = ", ".join(mention(user_id, name) for user_id, name in people.items())
    return _(
        "📬 {names}: I have private messages for you (like your pickup code) but cannot "
        "write to you yet. Tap the button and press Start, and I will send them at once."
    ).format(names=names)


def admin_alert(notices: Sequence[AdminAlertNotice]) -> str:
    """To an admin: Telegram refused messages as malformed."""
    out = [
        ngettext(
            "⚠️ Telegram refused {count} message as malformed; it was not sent:",
            "⚠️ Telegram refused {count} messages as malformed; they were not sent:",
            len(notices),
        ).format(count=len(notices))
    ]
    for notice in notices[:20]:
        out.append(f"• {esc(notice.kind)} → {notice.chat_id}: {esc(notice.error)}")
    if len(notices) > 20:
        out.append(
            _("…and {count} more. /status shows the latest.").format(count=len(notices) - 20)
        )
    return "\n".join(out)


def refusal(error: Exception) -> str | None:
    match error:
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
        case errors.CommunityUnknown(community_id=community_id):
            return _("There is no community {id}: /communities lists them with their ids.").format(
                id=community_id
            )
        case errors.AmbiguousCommunity(names=names):
            return _(
                "You lead several communities ({names}). Use this command in the group you mean."
            ).format(names=esc(", ".join(names)))
        case errors.TextTooLong(limit=limit):
            return _("That is too long: {limit} characters at most.").format(limit=limit)
        case errors.AlreadyLeader():
            return _("You lead a pickup point already: one is plenty.")
        case errors.AlreadyApplied(application_id=number):
            return _("Your application {id} is still open: the platform answers it first.").format(
                id=number
            )
        case errors.ApplicationUnknown(application_id=number):
            return _("There is no application {id}.").format(id=number)
        case errors.ApplicationDecided(state=state):
            return _("That application was already decided ({state}).").format(state=state)
        case errors.NoLocation():
            return ask_location()
        case errors.BadLocation(given=given):
            return _(
                "“{given}” is not a place: give latitude,longitude, e.g. 31.2304,121.4737."
            ).format(given=quote(given))
        case errors.BadInviteLink(given=given):
            return _("“{given}” is not a group invite link: it starts with https://t.me/.").format(
                given=quote(given)
            )
        case errors.BroadcastNotFound(broadcast_id=broadcast_id):
            return _("There is no broadcast {broadcast_id}.").format(broadcast_id=broadcast_id)
    return None


# -- Finding a community nearby -------------------------------------------------------------


def distance(km: float) -> str:
    return (
        _("{metres} m").format(metres=int(round(km * 1000, -1)))
        if km < 1
        else _("{km} km").format(km=f"{km:.1f}")
    )


def ask_location() -> str:
    return _("Share your location first (the button below, or 📎 → Location): I search from it.")


def nearby_line(found: Nearby) -> str:
    place = found.community
    parts = [f"🏘 <b>{esc(place.name)}</b> · {distance(found.distance_km)}"]
    address = place.point.full_address()
    if address:
        parts.append("📍 " + esc(address))
    if place.point.hours:
        parts.append("🕘 " + esc(place.point.hours))
    if found.leader:
        parts.append(_("leader {name}").format(name=esc(found.leader)))
    return "\n    ".join(parts)


def nearby(result: Search, radius_km: float) -> str:
    """/near: the points within the radius, or, when none is, the nearest."""
    if result.within:
        head = ngettext(
            "📍 {count} pickup point within {radius} of you:",
            "📍 {count} pickup points within {radius} of you:",
            len(result.within),
        ).format(count=len(result.within), radius=distance(radius_km))
        lines = [nearby_line(found) for found in result.within]
    elif result.nearest:
        head = _("No pickup point is within {radius} of you yet. The nearest:").format(
            radius=distance(radius_km)
        )
        lines = [nearby_line(found) for found in result.nearest]
    else:
        return _("There are no pickup points on the map yet.")
    tail = _("Tap a button to join a group; no link yet means: ask its leader to add you.")
    return "\n".join([head, *lines, tail])


def application(notice: LeaderApplicationNotice) -> str:
    """To an admin: an application to lead a new pickup point."""
    out = [
        _("🙋 <b>Application {id}</b>: {name} wants to lead a pickup point").format(
            id=notice.application_id, name=mention(notice.user_id, notice.applicant)
        ),
        _("🏘 {place}").format(place=esc(notice.place)),
        _("📍 {address}").format(address=esc(notice.address)),
        _("☎ {phone}").format(phone=esc(notice.phone)),
        _("💬 {about}").format(about=esc(notice.about)),
    ]
    if notice.latitude is not None and notice.longitude is not None:
        out.append(f"🗺 {notice.latitude:.5f},{notice.longitude:.5f}")
    return "\n".join(out)


def application_decision(notice: ApplicationDecisionNotice, bot_username: str) -> str:
    """To the applicant."""
    if notice.approved:
        return _(
            "🎉 Your application to lead <b>{place}</b> was approved!\n"
            "1. Create a Telegram group for your neighbours.\n"
            "2. Add me to it: @{bot} (make me an admin so I can let neighbours in).\n"
            "3. Send /register in the group: it becomes your community, with the pickup point "
            "you described."
        ).format(place=esc(notice.place), bot=bot_username)
    return _(
        "Your application to lead <b>{place}</b> was not approved this time. Thank you!"
    ).format(place=esc(notice.place))


def welcome(notices: Sequence[WelcomeNotice]) -> str:
    """To a group: neighbours who found it nearby were let in."""
    names = ", ".join(mention(notice.user_id, notice.name) for notice in notices)
    return _("👋 Welcome {names}: found this pickup point nearby through me.").format(names=names)
