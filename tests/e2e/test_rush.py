"""The evening rush: typed group commands do not flood the group, and it stays readable."""

from __future__ import annotations

from tests.e2e.story import Story


async def test_a_typed_join_is_confirmed_privately_and_shown_on_the_post(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.ask(story.admin, "/lang zh", "中文")
    story.bob.language_code = "zh-hans"
    for person in (story.alice, story.bob):
        await story.start(person)
    post = await story.post("/drop deadline=+2h min=3\nEggs | 12")
    before = len(tg.sent(story.group))
    alice = await story.typed(story.alice, "/join 1 2", "No. 1 joined")
    assert alice.chat.id == story.alice.id and "Sunny Garden" in alice.text
    bob = await story.typed(story.bob, "/join 1", "第 2 位")  # in his own language
    assert bob.chat.id == story.bob.id
    left = await story.typed(story.alice, "/cancel 1", "You left")
    assert left.chat.id == story.alice.id
    await tg.wait_for(lambda: "🙋 2. Bob" in post.text and "Alice" not in post.text, timeout=20)
    assert len(tg.sent(story.group)) == before  # the group got no new message, only the edit


async def test_those_the_bot_cannot_write_to_are_confirmed_together_in_the_group(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.carol)
    await story.post("/drop deadline=+2h min=3\nEggs | 12\nMilk | 8")
    before = len(tg.sent(story.group))
    for person, command in [(story.alice, "/join 1"), (story.bob, "/join 2 3")]:
        await tg.send(person, story.group, command)
    # Carol can be written to; her place depends on whether Alice's join came first.
    mine = await story.typed(story.carol, "/join 1", "joined #1 Eggs")
    assert mine.chat.id == story.carol.id
    together = await tg.wait_message(story.group, ("Alice", "Bob", "🔑"))
    assert "#1 Eggs ×1" in together.text and "Bob: No. 1, #2 Milk ×3" in together.text
    assert "Carol" not in together.text
    assert together.buttons[0]["url"].endswith("start=codes")
    await tg.idle(quiet=1.0)
    assert len(tg.sent(story.group)) == before + 1  # one message for both


async def test_a_refusal_of_a_typed_command_goes_to_its_sender_privately(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.alice)
    await story.post("/drop deadline=+2h min=3\nEggs | 12 | limit=1")
    before = len(tg.sent(story.group))
    refused = await story.typed(story.alice, "/join 9", "no item #9")
    assert refused.chat.id == story.alice.id and "Sunny Garden" in refused.text
    await story.typed(story.alice, "/join 1 2", "limited to 1")
    assert len(tg.sent(story.group)) == before
    # Someone the bot cannot write to hears it in the group.
    in_group = await story.typed(story.bob, "/join 9", "no item #9")
    assert in_group.chat.id == story.group.id
