"""Careless and hostile input: every reply fits, every odd value gets a clear refusal, a save
never reports a failure it did not have, and pickup codes are guarded."""

from __future__ import annotations

import re

import pytest

from tests.e2e.story import Story
from tests.fakegram import FakeTelegram, Fault, Message

LONG = 4000


def refused_by_telegram(tg: FakeTelegram) -> list[str]:
    return [f"{r.method}: {r.description}" for r in tg.requests if r.status == 400]


def no_generic_failure(tg: FakeTelegram) -> None:
    said = [m.text for chat in tg.chats.values() for m in tg.sent(chat)]
    assert not [text for text in said if "something went wrong" in text]


@pytest.fixture
async def community(story: Story) -> Story:
    await story.open_community(point="Gate 3")
    return story


async def test_refusals_that_quote_long_input_still_fit_and_are_answered(
    community: Story,
) -> None:
    story = community
    x = "x" * LONG
    for drop, says in [
        (f"/drop deadline=+1h min=2 {x}\nEggs | 12", "is not an option"),
        (f"/drop deadline=+1h\nEggs | {'9' * LONG}", "is not a price"),
        (f"/drop\nEggs | 12 | {'u' * LONG}", "is too long"),
        (f"/drop min={'7' * LONG}\nEggs | 12", "whole number"),
        (f"/drop deadline={x}\nEggs | 12", "is not a deadline"),
    ]:
        reply = await story.privately(story.admin, drop, says)
        assert len(reply.text) < 1000  # the value is quoted shortened
    reply = await story.ask(story.leader, f"/settings {'k' * LONG}=1", "Unknown setting")
    assert "…" in reply.text and len(reply.text) < 1000
    await story.ask(story.leader, f"/settings {'k' * LONG}", "is not a setting")
    assert refused_by_telegram(story.tg) == []
    no_generic_failure(story.tg)


async def test_a_long_free_text_pickup_point_is_refused_and_nothing_is_lost(
    community: Story,
) -> None:
    story = community
    await story.ask(story.leader, "/setpoint " + "n" * LONG, "too long", "1000 characters")
    # Nothing was stored, so every later command that shows the point still works.
    await story.ask(story.leader, "/setpoint hours=8:00-20:00", "8:00-20:00", "Gate 3")
    listing = await story.privately(story.admin, "/communities", "Sunny Garden")
    assert "Gate 3" in listing.text
    await story.ask(story.leader, "/setpoint notes=" + "n" * 1001, "too long")
    assert refused_by_telegram(story.tg) == []
    no_generic_failure(story.tg)


async def test_odd_but_plausible_values_get_a_clear_refusal(community: Story) -> None:
    story = community
    welcome = await story.start(story.alice, "ref-²")
    assert "Hello, Alice" in welcome.text
    await story.ask(story.leader, "/settings timezone=Europe", "is not a time zone")
    await story.ask(story.leader, "/settings timezone=" + "Area/" * 60, "is not a time zone")
    await story.ask(story.leader, "/settings timezone=../../etc/passwd", "is not a time zone")
    for command in ("/export 9999-12-31", "/export 0001-01-01", "/export 2026-01-01 9999-01-01"):
        await story.privately(story.admin, command, "Usage: /export", "2000 to 2100")
    await story.privately(story.leader, "/statement 9999-12", "Usage: /statement", "2000 to 2100")
    await story.typed(story.leader, "/summary 9999-12-31", "Usage: /summary")
    settings = await story.ask(story.leader, "/settings", "Settings of")
    assert "Asia/Shanghai" in settings.text  # nothing changed
    assert refused_by_telegram(story.tg) == []
    no_generic_failure(story.tg)


async def test_a_broadcast_of_a_thousand_ampersands_reaches_every_group(
    community: Story,
) -> None:
    story = community
    tg = story.tg
    # As long as a Telegram user's message can be (4,096): the post shows every "&".
    news = "&" * 1500 + " <b>not bold</b> " + "&" * 2568
    sent = await tg.send(story.admin, story.admin, "/broadcast " + news)
    parts = await tg.wait_for(lambda: [m for m in tg.sent(story.group) if m.text.count("&") > 1000])
    shown = "".join(m.text for m in parts if "&" in m.text)
    assert shown.count("&") == 4068 and "<b>not bold</b>" in shown
    # The status message itself becomes the report: no second message for the admin.
    await tg.wait_for(lambda: any("finished" in m.text for m in tg.sent(story.admin)), timeout=15)
    statuses = [m for m in tg.sent(story.admin) if m.message_id > sent.message_id]
    assert len(statuses) == 1 and "finished: 1 of 1 sent" in statuses[0].text
    assert not statuses[0].buttons
    assert refused_by_telegram(tg) == []


async def code_for(story: Story, resident_index: int) -> str:
    await story.start(story.residents[resident_index])
    # Long enough a deadline for the join to come first on a busy machine.
    await story.post("/drop deadline=+4s min=1\nEggs | 12")
    await story.typed(story.residents[resident_index], "/join 1", "#1")
    coded = await story.tg.wait_message(story.residents[resident_index], "🔑", timeout=15)
    match = re.search(r"\b\d{7}\b", coded.text)
    assert match
    return match.group()


async def test_a_code_typed_in_the_group_is_deleted_and_its_sender_told_privately(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community(point="Gate 3")
    await tg.add_bot(story.group, story.admin, admin=True)  # admins read and delete messages
    await tg.idle()  # and the bot has heard so
    await story.ask(story.admin, "/lang zh", "中文")
    story.alice.language_code = "zh-hans"  # she reads Chinese privately too
    code = await code_for(story, 0)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for text in (f"my code is {code}, can someone collect?", f"提货码{full_width}谁帮我取一下"):
        said = await tg.send(story.alice, story.group, text)
        told = await tg.wait_message(story.alice, "提货码", after=0)
        await tg.wait_for(lambda said=said: said.deleted)
        assert code not in told.text
    # A number that is not a live code, and a code of nobody, stay.
    other = await tg.send(story.bob, story.group, "call me at 1380013 after 5")
    await tg.idle()
    assert not other.deleted
    assert all(code not in m.text for m in tg.sent(story.group))


async def test_guessing_codes_pauses_the_leader_and_tells_the_admins(community: Story) -> None:
    story = community
    code = await code_for(story, 0)
    await story.ask(story.leader, "/arrived", "Arrived")
    await story.start(story.admin)
    guesses = [str(n) for n in range(5_000_000, 5_000_011) if str(n) != code][:10]
    for guess in guesses:
        reply = await story.privately(story.leader, f"/pickup {guess}", "No such pickup code")
        assert "another community" not in reply.text
    alert = await story.tg.wait_message(story.admin, "wrong pickup codes")
    assert "Lin" in alert.text
    await story.privately(story.leader, f"/pickup {code}", "paused", "5 more minutes")
    assert story.tg.sent(story.alice)[-1].text.count("picked up") == 0  # nothing handed over


def last(messages: list[Message]) -> Message:
    return messages[-1]


async def test_an_answer_that_fails_after_the_change_never_says_nothing_changed(
    community: Story,
) -> None:
    story = community
    await story.start(story.alice)  # her join is confirmed to her privately: that send fails
    await story.post("/drop deadline=+2h min=2\nEggs | 12")
    story.tg.faults.append(
        Fault(method="sendMessage", chat_id=story.alice.id, status=400, description="Bad Request")
    )
    said = await story.typed(story.alice, "/join 1", "carried out")
    assert "Nothing was changed" not in said.text
    today = await story.ask(story.bob, "/today", "Open now")
    assert "1/2 member " in today.text  # the join stood
