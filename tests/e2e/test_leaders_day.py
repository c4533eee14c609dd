"""The leader's day and the resident's experience: the live drop post, deadline nudges, the
pickup point record, community settings, shortages, CSV lists, the shipping list and the
automatic pickup reminder, end to end against the local Telegram-like server."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlalchemy import update

from bot.db import create_engine, create_session_factory
from bot.services.kernel.clock import utcnow
from models import GroupBuy
from tests.e2e.conftest import RunningBot
from tests.e2e.story import CLOSED, Story
from tests.fakegram import FakeUser, Message


def documents(story: Story, user: FakeUser) -> list[Message]:
    return [m for m in story.tg.sent(user) if m.document is not None]


def csv_rows(message: Message) -> list[list[str]]:
    assert message.document is not None
    name, content = message.document
    assert name.endswith(".csv")
    assert content.startswith(b"\xef\xbb\xbf")  # a byte-order mark: spreadsheets read UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def test_the_drop_post_shows_progress_as_people_join_and_the_outcome_once_closed(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.alice)
    post = await story.post("/drop deadline=+5s min=2\nEggs | 12\nMilk | 8 | min=1")
    assert "0/2 members" in post.text and len(post.buttons) == 2

    joined = await story.typed(story.alice, "/join 1", "No. 1")
    assert joined.chat.id == story.alice.id  # confirmed to her alone
    await tg.wait_for(lambda: "1/2 member" in post.text)
    assert "🙋 No. 1 Alice" in post.text  # the group sees the join on the post's 接龙 list
    query = await tg.click(story.bob, post, "#2")
    assert "No. 1" in await tg.wait_answer(query)
    await tg.wait_for(lambda: "1/1 member ✅" in post.text)

    await tg.wait_message(story.group, CLOSED, timeout=10)
    await tg.wait_for(lambda: "did not form ❌" in post.text and "formed ✅" in post.text)
    eggs, milk = post.text.split("#2")
    assert "did not form ❌" in eggs and "formed ✅" in milk
    assert post.buttons == []  # nobody can press Join on a closed item
    assert "Tap a button to join" not in post.text


async def test_a_burst_of_200_joins_costs_a_handful_of_edits_within_the_group_limit(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    # The real group budget: 20 messages a minute, so one edit per 9 s at most.
    settings = story.runner.settings.model_copy(update={"send_rate_group": 20})
    await story.runner.stop()
    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        post = await story.post("/drop deadline=+1h min=10\nEggs | 12")
        crowd = [tg.user(f"Neighbour {n}") for n in range(200)]
        for person in crowd:
            story.group.members.add(person.id)
        queries = [await tg.click(person, post, "#1") for person in crowd]
        await tg.wait_for(lambda: all(q.answered for q in queries), timeout=60)
        await tg.wait_for(lambda: "200/10 members ✅" in post.text, timeout=30)
    finally:
        await runner.stop()

    to_group = [
        r
        for r in tg.requests
        if r.status == 200
        and r.method == "editMessageText"
        and int(r.params.get("chat_id", 0)) == story.group.id
    ]
    edits = [r.at for r in to_group]
    print(f"200 joins: {len(edits)} edits of the post")
    assert 1 <= len(edits) <= 3, len(edits)
    assert all(later - earlier >= 8.5 for earlier, later in pairwise(edits))
    # Everything the bot wrote in the group over the burst fits the group's 20 a minute.
    group_writes = [
        r.at
        for r in tg.requests
        if r.status == 200
        and r.method in ("sendMessage", "editMessageText", "sendDocument")
        and int(r.params.get("chat_id", 0)) == story.group.id
    ]
    assert max(sum(1 for t in group_writes if s <= t < s + 60) for s in group_writes) <= 20
    assert not [r for r in tg.requests if r.status == 429]


async def test_items_short_of_their_minimum_are_nudged_twice_then_never_again(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    await story.ask(story.leader, "/settings nudges=8s,4s", "8s, 4s before the deadline")
    await story.post("/drop deadline=+12s min=3\nEggs | 12\nMilk | 8 | min=1")
    await story.typed(story.alice, "/join 2", "No. 1")

    first = await tg.wait_message(story.group, "still short", timeout=10)
    assert "#1 <b>Eggs</b>" not in first.text  # plain text; the name is bold in HTML
    assert "Eggs: 3 more members needed" in first.text
    assert "Milk" not in first.text  # it has its one member
    await story.typed(story.bob, "/join 1", "No. 1")
    second = await tg.wait_message(story.group, "still short", after=first.message_id)
    assert "Eggs: 2 more members needed" in second.text

    closed = await tg.wait_message(story.group, CLOSED, after=second.message_id, timeout=10)
    assert "Eggs did not form" in closed.text
    await tg.idle(quiet=1.0)
    assert sum("still short" in m.text for m in tg.sent(story.group)) == 2


async def test_the_pickup_point_record_by_key_value_by_dialog_and_where_residents_see_it(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    record = await story.ask(
        story.leader,
        "/setpoint address=3 Gate Rd hours=8:00-20:00 phone=138 0000 0000 route=North-2",
        "Pickup point",
    )
    assert "address: 3 Gate Rd" in record.text and "route: North-2" in record.text
    assert "Residents see: 3 Gate Rd · 🕘 8:00-20:00 · ☎ 138 0000 0000" in record.text

    refused = await story.ask(story.leader, "/setpoint colour=red", "Unknown field")
    assert "colour" in refused.text
    await story.ask(story.leader, "/setpoint address=" + "x" * 300, "too long")
    await story.ask(story.alice, "/setpoint address=My flat", "leader")

    # Alone in the group, /setpoint opens the step-by-step dialog in the private chat.
    offer = await story.ask(story.leader, "/setpoint", "one question at a time")
    link = offer.buttons[0]["url"]
    payload = link.split("start=")[1]
    await story.start(story.leader, payload)
    await tg.wait_message(story.leader, "Province?")
    answers = ["Zhejiang", "Hangzhou", "Xihu", ".", ".", "7:00-21:00", "Lin", "-", ".", ".", "."]
    answers.append(".")  # the invite link, last
    for answer in answers:
        await tg.send(story.leader, story.leader, answer)
    saved = await tg.wait_message(story.leader, "Saved")
    assert "address: 3 Gate Rd" in saved.text  # "." kept it
    assert "phone: —" in saved.text  # "-" cleared it
    assert "Zhejiang Hangzhou Xihu 3 Gate Rd · 🕘 7:00-21:00 · ☎ Lin" in saved.text

    # /cancel in the dialog stops without saving.
    await story.privately(story.leader, "/setpoint", "Province?")
    await story.privately(story.leader, "Nowhere", "City?")
    await story.privately(story.leader, "/cancel", "unchanged")
    shown = await story.ask(story.leader, "/setpoint route=North-2", "Pickup point")
    assert "province: Zhejiang" in shown.text

    # Residents see it on their code, the "ready" message and /mine.
    await story.post("/drop deadline=+3s min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await story.start(story.alice)
    code = await tg.wait_message(story.alice, "Your pickup code", timeout=10)
    assert "3 Gate Rd" in code.text
    await tg.wait_message(story.group, CLOSED)
    await story.ask(story.leader, "/arrived", "Arrived")
    ready = await tg.wait_message(story.alice, "ready")
    assert "📍 Zhejiang Hangzhou Xihu 3 Gate Rd · 🕘 7:00-21:00" in ready.text
    mine = await story.privately(story.alice, "/mine", "Your orders")
    assert "ready for pickup at Zhejiang Hangzhou Xihu 3 Gate Rd" in mine.text
    codes = await story.privately(story.alice, "/codes", "Ready now")
    assert "3 Gate Rd" in codes.text


async def test_settings_are_shown_changed_and_bad_values_change_nothing(story: Story) -> None:
    await story.open_community()
    shown = await story.ask(story.leader, "/settings", "Settings of")
    assert "language: en" in shown.text and "time zone: Asia/Shanghai" in shown.text
    assert "1h, 15m before the deadline" in shown.text and "19:00 local time" in shown.text

    for bad, reason in [
        ("/settings nudges=soon", "one or two times"),
        ("/settings nudges=1m,2m,3m", "one or two times"),
        ("/settings reminder=25:00", "local time like 19:00"),
        ("/settings timezone=Mars/Base", "not a time zone"),
        ("/settings language=fr", "en or zh"),
        ("/settings colour=red", "Unknown setting"),
        ("/settings nudges", "not a setting"),
        ("/settings reminder=20:00 language=fr", "en or zh"),  # one bad value: nothing changes
    ]:
        refusal = await story.ask(story.leader, bad, reason)
        assert "Usage" in refusal.text
    await story.ask(story.alice, "/settings reminder=off", "leader")
    unchanged = await story.ask(story.leader, "/settings", "Settings of")
    assert unchanged.text == shown.text

    changed = await story.ask(
        story.leader,
        "/settings timezone=Europe/Berlin nudges=30m reminder=off",
        "Settings of",
    )
    assert "time zone: Europe/Berlin" in changed.text
    assert "deadline nudges: 30m before" in changed.text and "pickup reminder: off" in changed.text
    await story.ask(story.leader, "/settings nudges=off language=zh", "设置")
    zh = await story.ask(story.leader, "/settings", "设置")
    assert "截止前催单：关闭" in zh.text and "提货提醒：关闭" in zh.text


async def test_a_shortage_tells_the_latest_joiners_and_the_lists_reflect_it(story: Story) -> None:
    tg = story.tg
    await story.open_community(point="Gate 3")
    for person in (story.alice, story.bob):
        await story.start(person)
    await story.post("/drop deadline=+3s min=1\nEggs | 12 | box")
    await story.typed(story.alice, "/join 1 2", "No. 1")
    await story.typed(story.bob, "/join 1", "No. 2")
    await tg.wait_message(story.group, CLOSED, timeout=10)

    await story.ask(story.leader, "/short 1", "Usage")
    await story.ask(story.leader, "/short 1 9", "Only 3")
    await story.typed(story.alice, "/short 1 1", "leader")  # to her alone: she started me
    reply = await story.ask(story.leader, "/short 1 2", "missing")
    assert "2 buyers told privately" in reply.text and "Still to hand over: ×1 box" in reply.text
    told_bob = await tg.wait_message(story.bob, "did not arrive")
    assert "none of your 1 arrived" in told_bob.text and "¥12.00" in told_bob.text
    told_alice = await tg.wait_message(story.alice, "did not arrive")
    assert "1 of your 2 missing; you get 1" in told_alice.text

    await story.start(story.leader)
    await story.privately(story.leader, "/summary", "Picking list")
    picking = await tg.wait_message(story.leader, "Picking list")
    assert "(×2 box short)" in picking.text and "Bob" not in picking.text
    sheet = await tg.wait_for(lambda: documents(story, story.leader) or None)
    rows = csv_rows(sheet[-1])
    assert rows[0][:4] == ["resident", "item no.", "item", "quantity"]
    assert rows[1:] == [["Alice", "1", "Eggs", "1", "box", ""]]

    await story.ask(story.leader, "/arrived", "Arrived")
    ready = await tg.wait_message(story.alice, "ready")
    assert "×1 box" in ready.text
    mine = await story.privately(story.bob, "/mine", "Your orders")
    assert "did not arrive — nothing owed" in mine.text


async def test_the_admin_shipping_list_by_route_as_text_and_csv(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.ask(story.leader, "/setpoint address=3 Gate Rd route=North-2", "Pickup point")
    for person in (story.alice, story.bob):
        await story.start(person)  # their joins are confirmed to them at once
    await story.post("/drop deadline=+3s min=1\nEggs | 12 | box\nTea & <Milk> | 8")
    await story.typed(story.alice, "/join 1 2", "No. 1")
    await story.typed(story.bob, "/join 2", "No. 1")
    await tg.wait_message(story.group, CLOSED, timeout=10)

    listed = await story.privately(story.admin, "/communities", "Communities")
    assert "📍 3 Gate Rd · route North-2" in listed.text
    await story.privately(story.admin, "/shipping tomorrow", "Usage")
    await story.privately(story.admin, "/shipping 2020-01-01", "Nothing formed")
    await story.privately(story.alice, "/shipping", "admin")
    listing = await story.privately(story.admin, "/shipping", "Shipping list")
    assert "🛣 <b>North-2</b>" not in listing.text  # plain text carries no tags
    assert "North-2" in listing.text and "Sunny Garden" in listing.text
    assert "#1 Eggs ×2 box" in listing.text and "#2 Tea & <Milk> ×1" in listing.text
    sheet = (await tg.wait_for(lambda: documents(story, story.admin) or None))[-1]
    rows = csv_rows(sheet)
    assert rows[0] == [
        "route",
        "community",
        "address",
        "contact",
        "phone",
        "item no.",
        "item",
        "quantity",
        "unit",
    ]
    assert rows[1:] == [
        ["North-2", "Sunny Garden", "3 Gate Rd", "", "", "1", "Eggs", "2", "box"],
        ["North-2", "Sunny Garden", "3 Gate Rd", "", "", "2", "Tea & <Milk>", "1", ""],
    ]


async def test_residents_with_goods_waiting_get_the_automatic_reminder(story: Story) -> None:
    tg = story.tg
    await story.open_community(point="Gate 3")
    await story.start(story.alice)
    await story.post("/drop deadline=+3s min=1 pickup=today\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await tg.wait_message(story.group, CLOSED, timeout=10)
    await story.ask(story.leader, "/arrived", "Arrived")
    await tg.wait_message(story.alice, "ready")

    # The goods have waited since an hour ago; the reminder time is this very minute.
    settings = story.runner.settings
    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session:
        await session.execute(update(GroupBuy).values(arrived_at=utcnow() - timedelta(hours=1)))
        await session.commit()
    await engine.dispose()
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    await story.ask(story.leader, f"/settings reminder={local:%H:%M}", "Settings of")
    assert story.app is not None
    await story.app.timekeeper.tick()
    reminder = await tg.wait_message(story.alice, "Reminder")
    assert "Gate 3" in reminder.text
    await story.app.timekeeper.tick()  # once a day, however often the clock ticks
    await tg.idle(quiet=0.5)
    assert sum("Reminder" in m.text for m in tg.sent(story.alice)) == 1
