"""The core loop of the chat contract, end to end: drop, joins, close, codes, arrival, pickup."""

from __future__ import annotations

import re

from tests.e2e.story import CLOSED, Story

DROP = (
    "/drop deadline=+1h min=2\n"
    "Eggs <free-range> & fresh | 12.5 | box | limit=3\n"
    "Milk | 8 | stock=2\n"
)


def code_in(text: str) -> str:
    match = re.search(r"\b(\d{7})\b", text)
    assert match, text
    return match.group(1)


async def test_a_day_in_a_community(story: Story) -> None:
    tg = story.tg
    await story.open_community(point="Gate 3 parcel room, 8:00-20:00, tel 138-0000-0000")
    for person in (story.admin, story.leader, story.bob, story.carol):
        await story.start(person)

    # The admin's preview shows every item with its number, price, minimum, limit and stock.
    preview = await story.privately(story.admin, DROP, "Draft drop")
    assert "Eggs <free-range> & fresh" in preview.text
    assert "¥12.50 / box" in preview.text
    assert "limit 3" in preview.text
    assert "stock 2" in preview.text
    drop_id = int(re.search(r"Draft drop (\d+)", preview.text).group(1))  # type: ignore[union-attr]
    published = await story.privately(story.admin, f"/publish {drop_id}", "posted")
    assert "posted to 1 community." in published.text

    # One post in the group, with a Join button per item.
    post = await tg.wait_message(story.group, "Group-buy")
    assert "#1 Eggs <free-range> & fresh" in post.text
    assert "#2 Milk" in post.text
    assert len(post.buttons) == 2

    # Alice joins by command; she never started the bot, so she is told in the group (with
    # whoever else is waiting) and offered the deep link; the post counts her.
    joined = await story.typed(story.alice, "/join 1 2", "No. 1")
    assert "Alice" in joined.text and joined.chat.id == story.group.id
    assert joined.buttons and "start=" in joined.buttons[0]["url"]
    await tg.wait_for(lambda: "1/2" in post.text and "🙋 No. 1 Alice ×2" in post.text)

    # Bob joins with the button: the answer says what happened.
    query = await tg.click(story.bob, post, "#1")
    answer = await tg.wait_answer(query)
    assert "No. 2" in answer

    # Stock and limits are refused with the reason, and change nothing.
    refused = await story.typed(story.carol, "/join 2 3", "left")
    assert "Only 2" in refused.text
    over = await story.typed(story.alice, "/join 1 2", "limited to 3")
    assert "you have 2" in over.text
    await story.typed(story.carol, "/join 2 2", "No. 1")

    today = await story.ask(story.bob, "/today", "Open now")
    assert "2/2 members" in today.text and "1/2 member" in today.text

    # The leader closes item 1 early: it formed. Buyers get a private code; the group is told.
    await story.ask(story.leader, "/close 1", "formed")
    closed_in_group = await tg.wait_message(story.group, CLOSED)
    assert "Eggs" in closed_in_group.text
    bob_code_message = await tg.wait_message(story.bob, "Your pickup code")
    bob_code = code_in(bob_code_message.text)

    # Alice cannot be written to: the group gets the deep link once; her code waits for /start.
    notice = await tg.wait_message(story.group, ("Alice", "private messages for you"))
    assert "start=" in notice.buttons[0]["url"]
    await story.start(story.alice, "codes")
    alice_code_message = await tg.wait_message(story.alice, "Your pickup code")
    alice_code = code_in(alice_code_message.text)
    assert alice_code != bob_code
    codes = await tg.wait_message(story.alice, ("Gate 3", alice_code))
    assert "Eggs" in codes.text

    # Item 2 had only Carol (min 2): it fails and she is told nothing is owed.
    await story.ask(story.leader, "/close 2", "did not form")
    failed = await tg.wait_message(story.carol, "Did not form")
    assert "nothing is owed" in failed.text

    # Next day: the picking list, privately.
    picking = await story.ask(story.leader, "/summary", "Sent to you privately")
    del picking
    summary = await tg.wait_message(story.leader, "Picking list")
    assert "×3 box for 2 buyers" in summary.text
    assert "Alice" in summary.text and "Bob" in summary.text

    # A code before arrival is refused (to the leader alone: they can be written to).
    await story.typed(story.leader, f"/pickup {alice_code}", "not been confirmed as arrived")

    # Arrival: every buyer is told privately, with the pickup point and their code.
    await story.ask(story.leader, "/arrived", "Arrived")
    ready = await tg.wait_message(story.bob, "ready")
    assert "Gate 3" in ready.text and bob_code in ready.text

    # Handover against the code: it names the resident and what to hand over.
    handed = await story.privately(story.leader, f"/pickup {alice_code}", "Hand over")
    assert "Alice" in handed.text and "×2 box" in handed.text
    used = await story.privately(story.leader, f"/pickup {alice_code}", "already used")
    assert used
    await story.privately(story.leader, "/pickup 12345", "7 digits")
    await story.privately(story.leader, f"/undo {alice_code}", "Undone")
    await story.privately(story.leader, f"/pickup {alice_code}", "Hand over")

    # Bob has not collected: the leader sees him and reminds him privately.
    waiting = await story.privately(story.leader, "/unpicked", "Waiting for pickup")
    assert "Bob" in waiting.text and "Alice" not in waiting.text
    await story.privately(story.leader, "/remind", "Reminding 1")
    reminder = await tg.wait_message(story.bob, "Reminder")
    assert bob_code in reminder.text

    # No pickup code ever appeared in the group.
    for text in tg.group_texts():
        assert alice_code not in text and bob_code not in text
