"""Communities and roles, broadcasts, and what delivery tells people; and their refusals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.formatting import esc, mention
from bot.services.community.broadcasts import Progress
from bot.services.kernel import errors
from bot.services.notices import AdminAlertNotice, UnreachableNotice


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
        case errors.BroadcastNotFound(broadcast_id=broadcast_id):
            return _("There is no broadcast {broadcast_id}.").format(broadcast_id=broadcast_id)
    return None
