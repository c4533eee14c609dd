"""A thousand residents press Join at once: exactly the stock is sold, everyone hears why."""

from __future__ import annotations

from collections import Counter

from tests.e2e.story import Story


async def test_a_thousand_simultaneous_joins_sell_exactly_the_stock(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    post = await story.post("/drop deadline=+1h min=1\nEggs | 12 | stock=100 | limit=1")
    crowd = [tg.user(f"Neighbour {n}") for n in range(1000)]
    for person in crowd:
        story.group.members.add(person.id)

    # All 1,000 presses are queued before the bot fetches any: it gets them 100 per poll and
    # handles each poll's updates concurrently.
    queries = [await tg.click(person, post, "#1") for person in crowd]
    await tg.wait_for(lambda: all(q.answered for q in queries), timeout=90)

    outcomes = Counter(
        "joined"
        if "No." in (q.answer_text or "")
        else "sold out"
        if "sold out" in (q.answer_text or "")
        else q.answer_text
        for q in queries
    )
    assert outcomes == {"joined": 100, "sold out": 900}
    numbers = sorted(
        int((q.answer_text or "").split("No. ")[1].split(".")[0])
        for q in queries
        if "No." in (q.answer_text or "")
    )
    assert numbers == list(range(1, 101))
    today = await story.ask(story.alice, "/today", "Open now")
    assert "100/1 members" in today.text
    assert "0 left" in today.text
