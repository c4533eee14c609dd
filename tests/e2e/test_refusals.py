"""Every refusal of the chat contract gets a clear answer and changes nothing."""

from __future__ import annotations

import pytest

from tests.e2e.story import Story


@pytest.fixture
async def open_drop(story: Story) -> Story:
    await story.open_community(point="Gate 3")
    await story.post("/drop deadline=+2h min=2\nEggs | 12 | limit=2\nMilk | 8 | stock=3")
    return story


async def test_who_may_do_what(open_drop: Story) -> None:
    story = open_drop
    alice = story.alice
    # Admin commands, by a resident.
    await story.typed(alice, "/register", "Only platform admins")
    await story.typed(alice, "/setleader 1", "Only platform admins")
    for command in ("/drop\nA | 1", "/publish 1", "/broadcast hello", "/communities"):
        await story.privately(alice, command, "Only platform admins")
    # Leader commands, by a resident.
    for command in ("/close 1", "/setpoint here", "/arrived", "/remind"):
        await story.typed(alice, command, "Only this community's leader")
    for command in ("/summary", "/unpicked", "/pickup 1234567", "/undo 1234567"):
        await story.typed(alice, command, "Only this community's leader")
    await story.privately(alice, "/pickup 1234567", "Only this community's leader")
    # Nothing changed: item 1 is still open with nobody in it.
    today = await story.ask(alice, "/today", "Open now")
    assert "0/2 members" in today.text


async def test_commands_in_the_wrong_place(open_drop: Story) -> None:
    story = open_drop
    for command in ("/join 1", "/cancel 1", "/today", "/close 1", "/register", "/setleader"):
        await story.privately(story.alice, command, "in your community's group")
    for command in ("/drop", "/publish 1", "/broadcast hi", "/communities"):
        await story.typed(story.admin, command, "in a private chat")


async def test_malformed_join_and_cancel(open_drop: Story) -> None:
    story = open_drop
    alice = story.alice
    for command in ("/join", "/join x", "/join 1 0", "/join 1 two", "/join 1 2 3", "/join -1"):
        await story.typed(alice, command, "Usage: /join n [qty]")
    await story.typed(alice, "/join 1 1000", "from 1 to 999")
    await story.typed(alice, "/join 7", "no item #7")
    await story.typed(alice, "/cancel", "Usage: /cancel n")
    await story.typed(alice, "/cancel 1", "You have not joined")
    await story.typed(alice, "/join 1 3", "limited to 2")
    await story.typed(story.bob, "/join 2 4", "Only 3")
    today = await story.ask(alice, "/today", "Open now")
    assert "0/2 members" in today.text
    assert "3 left" in today.text


async def test_malformed_admin_commands(open_drop: Story) -> None:
    story = open_drop
    admin = story.admin
    bad_drop = await story.privately(admin, "/drop\nEggs | twelve", "Line 2")
    assert "not a price" in bad_drop.text
    assert "The format is" in bad_drop.text
    await story.privately(admin, "/drop deadline=99:00\nA | 1", "not a deadline")
    await story.privately(admin, "/drop", "no items")
    await story.privately(admin, "/drop deadline=+3d pickup=today\nA | 1", "before the deadline")
    for command in ("/publish", "/publish x", "/publish 1 25:00", "/publish 1 18:00 extra"):
        await story.privately(admin, command, "Usage: /publish drop_id [HH:MM]")
    await story.privately(admin, "/publish 999", "no drop 999")
    await story.privately(admin, "/publish 1", "already published")
    await story.privately(admin, "/broadcast", "Usage: /broadcast text")
    await story.typed(admin, "/setleader", "Usage")
    await story.typed(admin, "/setleader 424242", "can't find user 424242")
    await story.privately(admin, "/lang fr", "Usage: /lang en|zh")


async def test_malformed_leader_commands(open_drop: Story) -> None:
    story = open_drop
    leader = story.leader
    await story.start(leader)
    await story.typed(leader, "/close", "Usage: /close n")
    await story.typed(leader, "/close 9", "no item #9")
    await story.typed(leader, "/setpoint", "one question at a time")
    await story.typed(leader, "/arrived x", "Usage: /arrived")
    await story.typed(leader, "/arrived", "no formed items")
    await story.typed(leader, "/arrived 1", "still open")
    await story.typed(leader, "/summary", "no closed items")
    await story.typed(leader, "/summary 2026-13-40", "Usage: /summary")
    for command in ("/pickup", "/pickup 1 2"):
        await story.privately(leader, command, "Usage: /pickup code")
    await story.privately(leader, "/pickup abc", "exactly 7 digits")
    await story.privately(leader, "/pickup 1000000", "No such pickup code")
    await story.privately(leader, "/undo 1000000", "No such pickup code")
    await story.typed(leader, "/remind", "Nobody has goods waiting")
    await story.privately(leader, "/unpicked", "Everyone has collected")


async def test_an_unregistered_group(story: Story) -> None:
    await story.tg.add_bot(story.group, story.admin)
    await story.tg.wait_message(story.group, "/register")
    for command in ("/join 1", "/today", "/cancel 1", "/close 1", "/setleader"):
        await story.typed(
            story.alice if command != "/setleader" else story.admin, command, "not a community yet"
        )
    await story.ask(story.admin, "/help", "not a community yet")


async def test_a_code_typed_in_the_group_is_removed_and_never_repeated(open_drop: Story) -> None:
    story, tg = open_drop, open_drop.tg
    await tg.add_bot(story.group, story.admin, admin=True)  # the bot may delete messages now
    await tg.idle()  # and has heard so
    typed = await tg.send(story.alice, story.group, "/pickup 7654321")
    reply = await tg.wait_message(
        story.group, "Only this community's leader", after=typed.message_id
    )
    assert "7654321" not in reply.text
    assert typed.deleted


async def test_other_bots_are_not_answered(open_drop: Story) -> None:
    story, tg = open_drop, open_drop.tg
    robot = tg.user("Helper Bot", username="helper_bot")
    robot.is_bot = True
    sent = await tg.send(robot, story.group, "/today")
    await tg.idle()
    assert not [m for m in tg.sent(story.group) if m.message_id > sent.message_id]
