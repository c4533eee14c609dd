"""The books end to end: commission and points on pickup, /settle, /statement, /export, and
referrals through /invite links."""

from __future__ import annotations

import re

from tests.e2e.story import CLOSED, Story
from tests.e2e.test_leaders_day import csv_rows, documents


async def test_commission_points_payouts_statement_and_export(story: Story) -> None:
    tg = story.tg
    await story.open_community(point="Gate 3")
    for person in (story.alice, story.bob, story.leader):
        await story.start(person)
    await story.buy_and_pick_up(
        story.alice,
        "/drop deadline=+3s min=1\nEggs | 12.50 | box\nTea | 30 | nopoints",
        "/join 1 2",
        "/join 2",
    )

    report = await story.privately(story.leader, "/commission", "Commission")
    assert "(10%)" in report.text
    assert "Earned ¥5.50 · settled ¥0.00 · unsettled ¥5.50" in report.text
    assert "#1 Eggs ¥25.00 → ¥2.50" in report.text and "#2 Tea ¥30.00 → ¥3.00" in report.text
    points = await story.privately(story.alice, "/points", "Your points: 25")
    assert "Eggs (Sunny Garden) +25" in points.text and "Tea" not in points.text

    # Only an admin sets the rate; a leader is refused and nothing changes.
    await story.typed(story.leader, "/settings commission=50%", "admin")
    await story.typed(story.admin, "/settings commission=150%", "percentage from 0 to 100")
    rated = await story.ask(story.admin, "/settings commission=8.5%", "Settings of")
    assert "leader commission: 8.5%" in rated.text

    # Payouts: the admin records them; the leader is told; too much is refused.
    listed = await story.privately(story.admin, "/communities", "Communities")
    community_id = re.search(r"(\d+)\. Sunny Garden", listed.text)
    assert community_id
    cid = community_id.group(1)
    await story.privately(story.admin, "/settle", "Usage")
    await story.privately(story.admin, f"/settle {cid} lots", "Usage")
    await story.privately(story.admin, "/settle 999", "no community 999")
    await story.privately(story.admin, f"/settle {cid} 9", "Only ¥5.50 is unsettled")
    await story.privately(story.leader, f"/settle {cid}", "admin")
    paid = await story.privately(story.admin, f"/settle {cid} 2", "Recorded a payout of ¥2.00")
    assert "Unsettled now: ¥3.50" in paid.text
    told = await tg.wait_message(story.leader, "The platform paid you ¥2.00")
    assert "Unsettled now: ¥3.50" in told.text
    report = await story.privately(story.leader, "/commission", "Commission")
    assert "settled ¥2.00 · unsettled ¥3.50" in report.text

    # The month's statement adds up, in text and CSV.
    await story.privately(story.leader, "/statement 2026-13", "Usage")
    sheet = await story.privately(story.leader, "/statement", "Statement")
    assert "Commission this month: ¥5.50 (2 entries)" in sheet.text
    assert (
        "Paid out this month: ¥2.00" in sheet.text and "Unsettled at the end: ¥3.50" in sheet.text
    )
    rows = csv_rows((await tg.wait_for(lambda: documents(story, story.leader) or None))[-1])
    assert rows[0] == ["time", "entry", "item no.", "item", "amount", "commission"]
    assert rows[1][-1] == "0.00" and rows[-1][-1] == "3.50"
    assert sorted(row[-1] for row in rows[2:-1]) == ["-2.00", "2.50", "3.00"]

    # The admin's export: every order, with what it earned.
    await story.privately(story.admin, "/export 2026-12-01 2026-11-01", "Usage")
    await story.privately(story.alice, "/export", "admin")
    exported = await story.privately(story.admin, "/export", "Orders joined")
    assert "2; owed ¥55.00; refunded ¥0.00; commission ¥5.50; points 25" in exported.text
    rows = csv_rows((await tg.wait_for(lambda: documents(story, story.admin) or None))[-1])
    assert rows[0][:4] == ["order", "community", "resident id", "resident"]
    assert sorted((row[5], row[9], row[10], row[11], row[15], row[16]) for row in rows[1:]) == [
        ("Eggs", "25.00", "0.00", "picked_up", "2.50", "25"),
        ("Tea", "30.00", "0.00", "picked_up", "3.00", "0"),
    ]


async def test_an_invite_link_brings_a_neighbour_and_the_leader_sees_the_promoter(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.alice)
    await story.start(story.leader)
    invitation = await story.privately(story.alice, "/invite", "Your invite link")
    link = re.search(r"start=(ref-\d+)", invitation.text)
    assert link and link.group(1) == f"ref-{story.alice.id}"
    welcome = await story.start(story.carol, link.group(1))
    assert "Alice invited you" in welcome.text
    again = await story.start(story.carol, f"ref-{story.bob.id}")  # never overwritten
    assert "invited you" not in again.text

    await story.ask(story.leader, "/promoters", "Sent to you privately")
    nobody = await tg.wait_message(story.leader, "came through an invite link")
    assert "/invite" in nobody.text
    await story.post("/drop deadline=+3s min=1\nRice | 40")
    await story.typed(story.carol, "/join 1 2", "No. 1")
    await tg.wait_message(story.group, CLOSED, timeout=10)
    listed = await story.privately(story.leader, "/promoters", "Promoters")
    assert "Alice: 1 resident, 1 orders, ¥80.00" in listed.text


async def test_the_books_speak_chinese(story: Story) -> None:
    await story.open_community()
    await story.start(story.alice)
    await story.privately(story.alice, "/lang zh", "中文")
    points = await story.privately(story.alice, "/points", "你的积分：0")
    assert "提货时到账" in points.text
    await story.privately(story.alice, "/invite", "你的邀请链接")
    await story.privately(story.alice, "/return", "最近 30 天没有可退货")
