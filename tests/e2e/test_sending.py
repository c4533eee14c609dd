"""The sender under pressure: malformed messages, bad connections, big broadcasts, priorities."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.services.community import communities
from bot.services.community.people import Actor
from tests.e2e.conftest import RunningBot, make_settings
from tests.e2e.story import Story
from tests.fakegram import FakeTelegram, Fault, Limits


async def codes_for(story: Story, *people: object) -> None:
    """Open a community, let `people` join item 1, and close it: their codes go out."""
    await story.open_community()
    for person in people:
        await story.start(person)  # type: ignore[arg-type]
    # With the busy platform's 300 other communities the drop reaches this group after them, at
    # Telegram's pace: 5 s at best, more on a loaded machine.
    await story.post("/drop min=1\nEggs | 12", timeout=30)
    for n, person in enumerate(people, start=1):
        await story.typed(person, "/join 1", f"No. {n}")  # type: ignore[arg-type]


async def test_a_malformed_message_fails_once_and_the_admins_hear_of_it(story: Story) -> None:
    tg = story.tg
    await story.start(story.admin)
    await codes_for(story, story.alice, story.bob)
    tg.faults.append(
        Fault(
            method="sendMessage",
            chat_id=story.alice.id,
            status=400,
            description="Bad Request: can't parse entities: Unsupported start tag",
        )
    )
    await story.ask(story.leader, "/close 1", "formed")
    await tg.wait_message(story.bob, "Your pickup code")
    alert = await tg.wait_message(story.admin, "refused 1 message")
    assert "can't parse entities" in alert.text
    await tg.idle(quiet=2.5)  # longer than the first retry would wait
    attempts = [
        r
        for r in tg.requests
        if r.method == "sendMessage" and r.params.get("chat_id") == str(story.alice.id)
    ]
    assert len([r for r in attempts if r.status == 400]) == 1
    assert not [m for m in tg.sent(story.alice) if "Your pickup code" in m.text]
    status = await story.privately(story.admin, "/status", "Delivery")
    assert "400 ×1" in status.text
    assert "Unsupported start tag" in status.text


async def test_dropped_connections_and_slow_answers_still_deliver(story: Story) -> None:
    tg = story.tg
    await codes_for(story, story.alice, story.bob)
    tg.faults.append(Fault(method="sendMessage", chat_id=story.alice.id, status="drop"))
    tg.faults.append(Fault(method="sendMessage", chat_id=story.bob.id, status="slow", delay=2))
    await story.ask(story.leader, "/close 1", "formed")
    for person in (story.alice, story.bob):
        code = await tg.wait_message(person, "Your pickup code", timeout=15)
        assert re.search(r"\d{7}", code.text)
        assert len([m for m in tg.sent(person) if "Your pickup code" in m.text]) == 1


SLOW = 2  # Telegram's limits only twice as fast: a big broadcast takes seconds


@pytest.fixture
async def busy(database_url: str) -> AsyncIterator[Story]:
    """A platform with 300 more communities, at nearly Telegram's real pace."""
    telegram = FakeTelegram(limits=Limits().scaled(SLOW))
    await telegram.start()
    cast = Story(telegram)
    settings = make_settings(
        telegram,
        database_url,
        cast.admin.id,
        send_rate_global=30 * SLOW,
        send_rate_chat=1 * SLOW,
        send_rate_group=20 * SLOW,
    )
    runner = RunningBot(settings, telegram)
    cast.app = await runner.start()
    cast.runner = runner
    now = datetime.now(UTC)
    async with cast.app.session_factory() as session:
        for n in range(300):
            group = telegram.group(f"Block {n}")
            group.bot_status = "member"
            await communities.register(
                session,
                Actor(cast.admin.id, True),
                group.id,
                group.title or "",
                "en",
                "Asia/Shanghai",
                now,
            )
    yield cast
    await runner.stop()
    await telegram.stop()


def broadcast_messages(tg: FakeTelegram, text: str) -> list[float]:
    """When each message with `text` was accepted by Telegram."""
    return sorted(
        r.at
        for r in tg.requests
        if r.method == "sendMessage" and r.status == 200 and text in str(r.params.get("text", ""))
    )


async def test_codes_and_replies_overtake_a_big_broadcast(busy: Story) -> None:
    story, tg = busy, busy.tg
    await codes_for(story, story.alice)
    await story.privately(story.admin, "/broadcast Market day on Saturday", "Broadcast")
    await tg.wait_for(lambda: len(broadcast_messages(tg, "Market day")) >= 30, timeout=20)

    # A resident's command is answered before the 300 queued group messages, not after them.
    await story.ask(story.bob, "/today", "Open now")
    answered_at = next(
        r.at
        for r in tg.requests
        if r.method == "sendMessage"
        and r.status == 200
        and r.params.get("chat_id") == str(story.group.id)
        and "Open now" in str(r.params.get("text"))
    )
    before_answer = [at for at in broadcast_messages(tg, "Market day") if at < answered_at]
    assert len(before_answer) < 150  # most of the broadcast was still waiting behind it

    # Closing queues a pickup code: it goes before the rest of the broadcast.
    await story.ask(story.leader, "/close 1", "formed")
    await tg.wait_message(story.alice, "Your pickup code")
    code_at = next(
        r.at
        for r in tg.requests
        if r.params.get("chat_id") == str(story.alice.id)
        and "pickup code" in str(r.params.get("text"))
    )
    await tg.wait_for(lambda: len(broadcast_messages(tg, "Market day")) >= 301, timeout=30)
    later = [at for at in broadcast_messages(tg, "Market day") if at > code_at]
    assert len(later) > 100  # the broadcast was far from done when the code went out
    report = await tg.wait_message(story.admin, "finished", timeout=10)
    assert "301 of 301 sent" in report.text


async def test_an_admin_can_stop_a_broadcast(busy: Story) -> None:
    story, tg = busy, busy.tg
    await story.open_community()
    status = await story.privately(story.admin, "/broadcast Lift repairs", "Broadcast")
    await tg.wait_for(lambda: len(broadcast_messages(tg, "Lift repairs")) >= 20, timeout=20)
    progress = await tg.wait_message(story.admin, "sent, 0 failed…", timeout=10)
    assert progress.message_id == status.message_id
    refused = await tg.wait_answer(await tg.click(story.alice, status, "Stop"))
    assert "Only platform admins" in refused
    answer = await tg.wait_answer(await tg.click(story.admin, status, "Stop"))
    stopped = int(re.search(r"(\d+) not sent", answer).group(1))  # type: ignore[union-attr]
    assert stopped > 100
    report = await tg.wait_message(story.admin, "stopped", timeout=10)
    sent, not_sent = map(
        int, re.search(r"(\d+) of 301 sent.*?(\d+) not sent", report.text).groups()
    )  # type: ignore[union-attr]
    await tg.idle(quiet=1.5)
    # The report is exact; the button's answer may count the few messages already on the wire.
    assert sent + not_sent == 301
    assert len(broadcast_messages(tg, "Lift repairs")) == sent
    assert not_sent <= stopped <= not_sent + 16
    assert not status.buttons  # the report replaced the progress, Stop button and all
