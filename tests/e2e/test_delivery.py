"""Messages that matter arrive despite Telegram's errors; groups the bot left stop getting posts."""

from __future__ import annotations

import re

from tests.e2e.story import Story
from tests.fakegram import Fault


async def test_codes_survive_429_and_server_errors(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    for person in (story.alice, story.bob):
        await story.start(person)
    await story.post("/drop deadline=+1h min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await story.typed(story.bob, "/join 1", "No. 2")
    tg.faults.append(Fault(method="sendMessage", chat_id=story.alice.id, status=429, retry_after=1))
    tg.faults.append(Fault(method="sendMessage", chat_id=story.bob.id, status=502, times=2))
    await story.ask(story.leader, "/close 1", "formed")
    alice = await tg.wait_message(story.alice, "Your pickup code", timeout=10)
    bob = await tg.wait_message(story.bob, "Your pickup code", timeout=15)
    assert re.search(r"\d{7}", alice.text)
    assert re.search(r"\d{7}", bob.text)
    assert tg.count("sendMessage", 429) >= 1
    assert tg.count("sendMessage", 502) == 2
    # Exactly one code message each, despite the retries.
    assert len([m for m in tg.sent(story.bob) if "Your pickup code" in m.text]) == 1


async def test_a_group_the_bot_left_gets_no_more_posts(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    river = tg.group("River Court", [story.admin, story.carol])
    await tg.add_bot(river, story.admin)
    await tg.wait_message(river, "/register")
    await story.ask(story.admin, "/register", "is now a community", chat=river)
    await tg.remove_bot(river, story.admin)
    await tg.idle()
    reply = await story.privately(story.admin, "/communities", "Communities")
    assert "River Court" not in reply.text
    drop_id = await story.draft("/drop\nEggs | 12")
    published = await story.privately(story.admin, f"/publish {drop_id}", "posted")
    assert "1 community" in published.text
    await tg.wait_message(story.group, "Eggs")
    assert not [m for m in tg.sent(river) if "Eggs" in m.text]


async def test_broadcast_reaches_every_group_and_reports(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    river = tg.group("River Court", [story.admin])
    await tg.add_bot(river, story.admin)
    await tg.wait_message(river, "/register")
    await story.ask(story.admin, "/register", "is now a community", chat=river)
    status = await story.privately(
        story.admin, "/broadcast Closed on Sunday <holiday> & rest", "Broadcast"
    )
    assert "of 2 sent" in status.text
    assert "Stop" in status.buttons[0]["text"]
    for group in (story.group, river):
        news = await tg.wait_message(group, "Closed on Sunday")
        assert "<holiday> & rest" in news.text
    # The status message itself becomes the report, and loses its Stop button.
    report = await tg.wait_message(story.admin, "finished")
    assert report.message_id == status.message_id
    assert "2 of 2 sent, 0 failed" in report.text
    assert not report.buttons


async def test_a_long_drop_is_split_into_posts_each_with_its_buttons(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    lines = [
        f"Item {n} {'with a rather long descriptive name ' * 2}".strip()[:90] + f" | {n}.50"
        for n in range(1, 51)
    ]
    drop_id = await story.draft("/drop\n" + "\n".join(lines))
    await story.privately(story.admin, f"/publish {drop_id}", "posted")
    await tg.wait_for(lambda: sum(len(m.buttons) for m in tg.sent(story.group)) >= 50)
    posts = [m for m in tg.sent(story.group) if m.buttons]
    assert len(posts) > 1
    assert all(len(m.text.encode("utf-16-le")) // 2 <= 4096 for m in posts)
    buttons = [b["text"] for m in posts for b in m.buttons]
    assert len(buttons) == 50
    assert all(f"#{n} " in buttons[n - 1] for n in range(1, 51))
    await story.typed(story.alice, "/join 50", "No. 1")


async def test_names_are_shown_exactly_as_written(story: Story) -> None:
    await story.open_community(name='<Oak> & "Pine" Court', point="Gate <3> & back door")
    post = await story.post("/drop\nFish & chips <large> | 18 | box & bag")
    assert "Fish & chips <large>" in post.text
    assert "box & bag" in post.text
    assert '<Oak> & "Pine" Court' in post.text
    reply = await story.typed(story.alice, "/join 1", "No. 1")
    assert "Fish & chips <large>" in reply.text


async def test_a_group_upgraded_to_a_supergroup_keeps_its_community(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    new_group = tg.group("Sunny Garden", [story.admin, story.leader, *story.residents])
    new_group.bot_status = "member"
    await tg._push(  # Telegram's service message in the old group
        {
            "message": {
                "message_id": 999,
                "date": 0,
                "chat": story.group.as_dict(),
                "from": story.admin.as_dict(),
                "migrate_to_chat_id": new_group.id,
            }
        }
    )
    await tg.idle()
    await story.ask(story.admin, "/help", "For platform admins", chat=new_group)
    today = await story.ask(story.alice, "/today", "Nothing is open", chat=new_group)
    assert today
