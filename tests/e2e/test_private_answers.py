"""Personal answers go to the private chat; the group only hears that they were sent."""

from __future__ import annotations

import re

from tests.e2e.story import Story


async def closed_with_code(story: Story) -> str:
    await story.open_community(point="Gate 3")
    await story.post("/drop deadline=+1h min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await story.ask(story.leader, "/close 1", "formed")
    notice = await story.tg.wait_message(story.group, ("Alice", "private messages for you"))
    assert "start=codes" in notice.buttons[0]["url"]
    return notice.text


async def test_codes_asked_in_the_group_are_answered_privately(story: Story) -> None:
    tg = story.tg
    await closed_with_code(story)
    # Not started yet: the group gets the button, not the code.
    offer = await story.ask(story.alice, "/codes", "can't write to you privately yet")
    assert offer.buttons[0]["url"].endswith("start=codes")
    # She starts from that button: her code arrives, and /codes works from the group from now on.
    await story.start(story.alice, "codes")
    codes = await tg.wait_message(story.alice, "Gate 3")
    code = re.search(r"\d{7}", codes.text).group()  # type: ignore[union-attr]
    await story.ask(story.alice, "/codes", "Sent to you privately")
    await tg.wait_message(story.alice, code, after=codes.message_id)
    assert all(code not in text for text in tg.group_texts())


async def test_mine_from_the_group_continues_after_start(story: Story) -> None:
    tg = story.tg
    await closed_with_code(story)
    offer = await story.ask(story.alice, "/mine", "can't write to you privately yet")
    assert offer.buttons[0]["url"].endswith("start=mine")
    await story.start(story.alice, "mine")
    orders = await tg.wait_message(story.alice, "Your orders")
    assert "Eggs" in orders.text
    assert "formed" in orders.text


async def test_help_shows_what_each_role_may_do(story: Story) -> None:
    await story.open_community()
    resident = await story.ask(story.alice, "/help", "In the group")
    assert "/join" in resident.text
    assert "For leaders" not in resident.text
    assert "For platform admins" not in resident.text
    leader = await story.ask(story.leader, "/help", "For leaders")
    assert "/pickup" in leader.text
    assert "For platform admins" not in leader.text
    admin = await story.privately(story.admin, "/help", "For platform admins")
    assert "/drop" in admin.text
    assert "/codes" in admin.text


async def test_setleader_by_user_id(story: Story) -> None:
    await story.tg.add_bot(story.group, story.admin)
    await story.tg.wait_message(story.group, "/register")
    await story.ask(story.admin, "/register", "is now a community")
    reply = await story.ask(story.admin, f"/setleader {story.carol.id}", "now the leader")
    assert "Carol" in reply.text
    await story.ask(story.carol, "/setpoint Lobby", "Pickup point")
