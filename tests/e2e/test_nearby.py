"""Find my community: points on the map, /near, joining through the bot, recruiting leaders."""

from __future__ import annotations

import pytest

from bot.sandbox.telegram import Fault
from tests.e2e.conftest import RunningBot
from tests.e2e.story import CLOSED, Story

GATE = (31.2304, 121.4737)  # the pickup point
NORTH_1_5_KM = (31.24389, 121.4737)  # 1.5 km north of it
NORTH_2_5_KM = (31.25288, 121.4737)  # 2.5 km north of it


@pytest.fixture
async def located(story: Story) -> Story:
    """A community whose bot is a group admin, its point set and pinned on the map."""
    await story.open_community()
    await story.tg.add_bot(story.group, story.admin, admin=True)
    await story.ask(
        story.leader,
        f"/setpoint address=3 Gate Rd hours=8:00-20:00 location={GATE[0]},{GATE[1]}",
        "31.230400,121.473700",
    )
    return story


async def test_a_resident_nearby_finds_the_point_and_joins_its_group_through_the_bot(
    located: Story,
) -> None:
    story, tg = located, located.tg
    newcomer = tg.user("Nina", language_code="en")
    await tg.send_location(newcomer, newcomer, *NORTH_1_5_KM)
    listed = await tg.wait_message(newcomer, "within 2.0 km")
    assert "Sunny Garden" in listed.text and "1.5 km" in listed.text
    assert "3 Gate Rd" in listed.text and "8:00-20:00" in listed.text and "Lin" in listed.text
    join = listed.button("Join Sunny Garden")
    assert join["url"] in tg.invite_links and tg.invite_links[join["url"]]["creates_join_request"]
    # She asks to join by the link: the bot, which offered it, lets her in and says so.
    await tg.request_join(newcomer, join["url"])
    # Welcomes are gathered for a few seconds, so that a street arriving together gets one.
    welcome = await tg.wait_message(story.group, ("Welcome", "Nina"), timeout=20)
    assert "nearby" in welcome.text
    assert tg.join_requests[(story.group.id, newcomer.id)] == "approved"
    # Someone who was not offered the link is left to the group's admins.
    stranger = tg.user("Sam")
    await tg.request_join(stranger, join["url"])
    await tg.idle()
    assert tg.join_requests[(story.group.id, stranger.id)] == "pending"


async def test_too_far_the_nearest_are_shown_with_their_distance(located: Story) -> None:
    tg = located.tg
    far = tg.user("Fay")
    await tg.send_location(far, far, *NORTH_2_5_KM)
    answer = await tg.wait_message(far, "nearest")
    assert "No pickup point is within 2.0 km" in answer.text and "2.5 km" in answer.text
    # /near searches again from where she was.
    again = await located.privately(far, "/near", "nearest")
    assert "Sunny Garden" in again.text


async def test_in_chinese_near_and_far_with_distances_in_metres_and_kilometres(
    located: Story,
) -> None:
    tg = located.tg
    mei = tg.user("Mei", language_code="zh-hans")
    await located.privately(mei, "/near", "请先发送你的位置")
    asked = tg.sent(mei)[-1]
    assert asked.reply_markup and asked.reply_markup["keyboard"][0][0]["request_location"]
    await tg.send_location(mei, mei, 31.2349, 121.4737)  # 500 m north
    listed = await tg.wait_message(mei, "2.0 公里")
    assert "500 米" in listed.text and "团长 Lin" in listed.text
    assert listed.button("加入 Sunny Garden")["url"].startswith("https://t.me/+")
    far = await tg.send_location(mei, mei, *NORTH_2_5_KM)
    nearest = await tg.wait_message(mei, "最近的是", after=far.message_id)
    assert "2.5 公里" in nearest.text and "Sunny Garden" in nearest.text


async def test_residents_get_the_point_as_a_place_on_the_map(located: Story) -> None:
    story, tg = located, located.tg
    await story.start(story.alice)
    await story.post("/drop deadline=+3s min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await tg.wait_message(story.group, CLOSED, timeout=10)
    # The pin fails once after the words went out: the retry sends only the pin.
    tg.faults.append(Fault(method="sendVenue", chat_id=story.alice.id, status=500))
    await story.ask(story.leader, "/arrived", "Arrived")
    await tg.wait_message(story.alice, "ready")
    place = await tg.wait_for(
        lambda: next((m for m in tg.sent(story.alice) if m.venue), None), timeout=15
    )
    assert len([m for m in tg.sent(story.alice) if "ready" in m.text]) == 1
    assert tg.faults[0].times == 0  # it did fail once
    assert place.venue["title"] == "Sunny Garden" and place.venue["address"] == "3 Gate Rd"
    assert place.venue["location"] == {"latitude": GATE[0], "longitude": GATE[1]}
    # /where privately: the points of her orders; in the group, by the leader: pinned.
    sent = await tg.send(story.alice, story.alice, "/where")
    await tg.wait_for(
        lambda: [m for m in tg.sent(story.alice) if m.venue and m.serial > sent.serial]
    )
    asked = await tg.send(story.leader, story.group, "/where")
    pinned = await tg.wait_for(
        lambda: next((m for m in tg.sent(story.group) if m.venue and m.serial > asked.serial), None)
    )
    await tg.idle()
    assert tg.pinned[story.group.id] == pinned.message_id


async def test_a_new_leader_is_recruited_and_set_up_without_an_admin(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.admin)
    wei = tg.user("Wei", language_code="zh-hans")
    await story.privately(wei, "/apply", "团长招募")
    await story.privately(wei, "Plum Garden", "地址")
    await story.privately(wei, "8 Plum Rd", "位置")
    await tg.send_location(wei, wei, 31.3, 121.5)
    await tg.wait_message(wei, "电话")
    await story.privately(wei, "13800000000", "介绍")
    filed = await story.privately(wei, "I run the corner shop", "申请")
    assert "Plum Garden" in filed.text
    await story.privately(wei, "/apply", "还在处理")  # a second one while this is open
    to_admin = await tg.wait_message(story.admin, ("Application", "Plum Garden"))
    await story.privately(story.alice, "/applications", "Only platform admins")
    listing = await story.privately(story.admin, "/applications", "waiting")
    assert "1 waiting" in listing.text
    refused = await tg.click(story.alice, to_admin, "Approve")  # not an admin
    assert "Only platform admins" in await tg.wait_answer(refused)
    pressed = await tg.click(story.admin, to_admin, "Approve")
    await tg.wait_answer(pressed)
    told = await tg.wait_message(wei, "/register")
    assert "Plum Garden" in told.text
    # Wei creates the group, adds the bot and registers it: no admin needed.
    plum = tg.group("Plum Garden chat", [wei])
    await tg.add_bot(plum, wei)
    await tg.wait_message(plum, "/register")
    await story.ask(wei, "/register", "is now a community", chat=plum)
    point = await story.privately(wei, "/setpoint phone=13800000001", "8 Plum Rd")
    assert "31.300000,121.500000" in point.text
    # The platform's next drop reaches the new community too.
    await story.privately(story.admin, "/drop deadline=+2h\nPlums | 20", "Draft drop")
    await story.privately(story.admin, "/publish 1", "2 communities")
    await tg.wait_for(lambda: any(m.buttons for m in tg.sent(plum)))


async def test_an_application_half_answered_survives_a_restart(story: Story) -> None:
    tg = story.tg
    await story.start(story.admin)
    wei = tg.user("Wei")
    await story.privately(wei, "/apply", "pickup point called")
    await story.privately(wei, "Plum Garden", "street address")
    settings = story.runner.settings
    await story.runner.stop()
    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        await story.privately(wei, "8 Plum Rd", "location pin")  # the next step, not a new start
        await tg.send_location(wei, wei, 31.3, 121.5)
        await tg.wait_message(wei, "phone number")
        await story.privately(wei, "13800000000", "about yourself")
        filed = await story.privately(wei, "I run the corner shop", "is with the platform")
        assert "Plum Garden" in filed.text
        await tg.wait_message(story.admin, ("Plum Garden", "8 Plum Rd"))
    finally:
        await runner.stop()


async def test_bad_places_and_applications_are_refused_and_change_nothing(
    located: Story,
) -> None:
    story, tg = located, located.tg
    resident = tg.user("Rui")
    await story.privately(resident, "/near", "Share your location first")
    await tg.send_location(resident, resident, 95.0, 10.0)
    await tg.wait_message(resident, "is not a place")
    await tg.send_location(resident, resident, *NORTH_1_5_KM, live_period=600)
    await tg.wait_message(resident, "live location")
    await tg.send_location(resident, resident, *NORTH_1_5_KM, venue=("Cafe", "1 Road"))
    await tg.wait_message(resident, "place's card")
    await story.privately(resident, "/near", "Share your location first")  # still none kept
    await story.ask(story.leader, "/setpoint location=north of the gate", "is not a place")
    await story.ask(story.leader, "/setpoint location=91,200", "is not a place")
    await story.ask(story.leader, "/setpoint link=www.example.com", "not a group invite link")
    await story.privately(story.leader, "/apply", "lead a pickup point already")
    record = await story.privately(story.leader, "/setpoint phone=1", "31.230400,121.473700")
    assert "www.example.com" not in record.text
    said = [m.text for chat in (resident, story.leader) for m in tg.sent(chat)]
    assert not [s for s in said if "went wrong" in s]


async def test_the_leader_pins_the_point_in_the_dialog(story: Story) -> None:
    await story.open_community()
    tg, leader = story.tg, story.leader
    await story.privately(leader, "/setpoint", "Province?")
    for expected in ("City?", "District?", "Street address"):
        await story.privately(leader, ".", expected)
    await story.privately(leader, "9 Elm St", "location pin")
    # A wrong answer is refused and asked again; what was answered before is kept.
    await story.privately(leader, "behind the school", "is not a place")
    live = await tg.send_location(leader, leader, *GATE, live_period=600)
    await tg.wait_message(leader, "one-off location pin", after=live.message_id)
    pin = await tg.send_location(leader, leader, *GATE)
    await tg.wait_message(leader, "Opening hours", after=pin.message_id)
    saved = await story.privately(leader, "/done", "Saved")
    assert "9 Elm St" in saved.text and "31.230400,121.473700" in saved.text
