"""Typed notices: rows queued by the code before payloads were typed still read and render; a row
that does not read as its kind fails once, with the reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import Catalogs
from bot.services.kernel import outbox
from bot.services.notices import PRIORITY, TYPES, Kind, ReminderNotice
from handlers.notices import NoticeRenderer
from models import OutboxMessage, OutboxState

TOKEN = "123456789:TEST-token-for-the-local-bot-api-server"

# Payloads exactly as the code before typed payloads queued them (one of each kind that needs no
# other rows to render), with what their message must say.
LEGACY: list[tuple[str, dict[str, Any], int | None, str]] = [
    (
        "closed",
        {
            "community": "Sunny",
            "point": {"address": "Gate 3"},
            "formed": [
                {
                    "code": "1234567",
                    "pickup_date": "2026-11-25",
                    "items": [
                        {
                            "number": 1,
                            "name": "Eggs",
                            "unit": None,
                            "quantity": 2,
                            "amount": 2400,
                            "members": 3,
                            "min_members": 2,
                        }
                    ],
                }
            ],
            "failed": [],
        },
        100,
        "1234567",
    ),
    (
        "closed_group",
        {"items": [{"number": 1, "name": "Eggs", "formed": True, "members": 3, "min_members": 2}]},
        None,
        "Eggs",
    ),
    (
        "ready",
        {
            "community": "Sunny",
            "pickup_point": "by the west gate",  # the oldest shape: free text
            "code": "7654321",
            "pickup_date": "2026-11-25",
            "items": [{"number": 2, "name": "Milk", "unit": "L", "quantity": 1}],
        },
        101,
        "by the west gate",
    ),
    (
        "nudge",
        {
            "items": [{"number": 1, "name": "Tea", "more": 2}],
            "deadline": "2099-01-01T10:00:00+00:00",
            "timezone": "Asia/Shanghai",
        },
        None,
        "2 more members",
    ),
    (
        "short",
        {
            "community": "Sunny",
            "items": [
                {
                    "order_id": 9,
                    "number": 1,
                    "name": "Eggs",
                    "quantity": 3,
                    "short": 1,
                    "kept": 2,
                }
            ],
            "refund": 1200,
        },
        100,
        "¥12.00",
    ),
    ("payout", {"community": "Sunny", "amount": 500, "unsettled": 100}, 50, "¥5.00"),
    (
        "decision",
        {
            "kind": "return",
            "approved": True,
            "community": "Sunny",
            "number": 1,
            "name": "Eggs",
            "amount": 1200,
        },
        100,
        "approved",
    ),
    ("broadcast", {"text": "Water is off at 9 & 10"}, None, "Water is off at 9 &amp; 10"),
    ("unreachable", {"user_id": 100, "name": "Alice"}, None, "Alice"),
    ("admin_alert", {"kind": "ready", "chat_id": 100, "error": "Bad Request"}, 1, "Bad Request"),
]


def test_every_kind_has_a_payload_type_and_a_priority() -> None:
    assert set(TYPES) == set(Kind) == set(PRIORITY)
    assert TYPES[Kind.REMINDER] is ReminderNotice


async def queue_raw(
    session: AsyncSession, kind: str, payload: dict[str, Any], user_id: int | None, now: datetime
) -> int:
    row = OutboxMessage(
        kind=kind,
        chat_id=user_id or -1001,
        user_id=user_id,
        payload=payload,
        priority=PRIORITY[Kind(kind)],
        state=OutboxState.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    await session.commit()
    return row.id


@pytest.mark.parametrize(
    ("kind", "payload", "user_id", "says"), LEGACY, ids=[k for k, *_ in LEGACY]
)
async def test_rows_queued_before_typed_payloads_still_read_and_render(
    session: AsyncSession,
    now: datetime,
    kind: str,
    payload: dict[str, Any],
    user_id: int | None,
    says: str,
) -> None:
    await queue_raw(session, kind, payload, user_id, now)
    (item,) = await outbox.claim_due(session, now, 10, "test")
    assert isinstance(item.payload, TYPES[Kind(kind)])
    settings = Settings(_env_file=None, bot_token=TOKEN, default_language="en")  # type: ignore[arg-type, call-arg]
    parts = await NoticeRenderer(Catalogs("en"), settings, "tuan_bot")(
        session, [item], item.recipient
    )
    assert says in "\n".join(part.text for part in parts)


async def test_a_row_that_does_not_read_as_its_kind_fails_once_with_the_reason(
    session: AsyncSession, now: datetime
) -> None:
    broken = await queue_raw(session, "ready", {"community": "Sunny", "code": "1234567"}, 100, now)
    fine = await queue_raw(session, "broadcast", {"text": "hello"}, None, now)
    claimed = await outbox.claim_due(session, now, 10, "test")
    assert [item.id for item in claimed] == [fine]
    row = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.id == broken)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    assert row.state is OutboxState.FAILED
    assert row.error == (
        "unreadable ready payload: pickup_date: Field required; items: Field required"
    )
    await session.commit()
    assert await outbox.claim_due(session, now + timedelta(minutes=5), 10, "test") == []
