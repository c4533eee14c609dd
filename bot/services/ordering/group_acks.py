"""Confirming a typed /join or /cancel in the group, for a member the bot cannot write to.

A typed command in a group is confirmed privately: the group is the neighbours' living room and
its budget is 20 messages a minute. A member who never opened a private chat with the bot is
told in the group instead; those confirmations are queued and go out together (the outbox
coalesces them), one message naming everyone who waited, with the button to open the chat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.community.communities import CommunityRef
from bot.services.community.people import UserRef
from bot.services.kernel import outbox
from bot.services.kernel.uow import housekeeping
from bot.services.notices import GroupAckNotice

# A confirmation waits this long for others to go with it (those queued meanwhile are sent
# together when the first is due): a 接龙 filling up costs the group a message or two, not one
# per member.
GATHER = timedelta(seconds=3)


@housekeeping
async def acknowledge_in_group(
    session: AsyncSession,
    community: CommunityRef,
    member: UserRef,
    ack: GroupAckNotice,
    update_id: int,
    now: datetime,
) -> None:
    """Queue `ack` for the group (once per update, however often the update is handled)."""
    await outbox.enqueue(
        session,
        [
            outbox.Notice(
                ack,
                chat_id=community.chat_id,
                community_id=community.id,
                dedupe_key=f"group-ack:{update_id}:{member.id}",
                gather=GATHER,
            )
        ],
        now,
    )
