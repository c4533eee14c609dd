"""Updates: each has its effect once, none is lost on a stop or a crash."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from bot.db import create_engine, create_session_factory
from bot.services.kernel import inbox
from bot.services.kernel.uow import handling
from bot.services.ordering import joins
from handlers.keyboards import JoinButton
from models import Community, InboxUpdate
from tests.e2e.conftest import RunningBot
from tests.e2e.story import Story
from tests.fakegram import Fault


async def test_a_join_delivered_twice_counts_once(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    post = await story.post("/drop\nEggs | 12")
    said = await tg.send(story.alice, story.group, "/join 1 2")
    await story.told(story.alice, said, "No. 1")
    query = await tg.click(story.bob, post, "#1")
    await tg.wait_answer(query)

    await tg.redeliver(tg.update_of(said), tg.updates[-1]["update_id"])
    await tg.idle()
    today = await story.ask(story.carol, "/today", "Open now")
    assert "2/1 members" in today.text  # Alice and Bob, once each
    mine = await story.privately(story.alice, "/mine", "Your orders")
    assert "×2" in mine.text
    assert "×4" not in mine.text
    replies = [m for m in tg.sent(story.group) if "Alice: No. 1" in m.text]
    assert len(replies) == 1  # the repeat changed nothing and said nothing more


async def test_a_broadcast_delivered_twice_goes_out_once(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    asked = await tg.send(story.admin, story.admin, "/broadcast Water cut on Friday")
    await tg.wait_message(story.group, "Water cut")
    await tg.redeliver(tg.update_of(asked))
    await tg.idle(quiet=1.0)
    assert len([m for m in tg.sent(story.group) if "Water cut" in m.text]) == 1


async def test_updates_stored_but_not_handled_are_handled_at_start(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.post("/drop\nEggs | 12")
    settings = story.runner.settings
    await story.runner.stop()

    # As if the bot was killed right after storing Bob's /join and before handling it.
    update = {
        "update_id": 10_000,
        "message": {
            "message_id": 9_999,
            "date": 0,
            "chat": story.group.as_dict(),
            "from": story.bob.as_dict(),
            "text": "/join 1 3",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session:
        await inbox.record(session, [(10_000, update)], datetime.now(UTC))
    await engine.dispose()

    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        reply = await tg.wait_message(story.group, ("Bob", "No. 1"))  # he never started me
        assert "×3" in reply.text
    finally:
        await runner.stop()


async def test_an_update_the_bot_cannot_read_is_kept_and_holds_nothing_up(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.post("/drop\nEggs | 12")
    # Between ordinary updates, one aiogram refuses (a message with no chat, a number as text):
    # before, the whole batch failed to parse and was asked for again and again, for ever.
    strange = {"message": {"message_id": 5, "date": 0, "text": 42}}
    strange_id = await tg.deliver(strange)
    today = await story.ask(story.carol, "/today", "Open now")
    assert "Eggs" in today.text
    await story.typed(story.alice, "/join 1", "No. 1")

    settings = story.runner.settings
    await story.runner.stop()  # which records what finished
    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session:
        kept = (
            await session.execute(
                select(InboxUpdate.payload, InboxUpdate.finished_at).where(
                    InboxUpdate.update_id == strange_id
                )
            )
        ).one()
    await engine.dispose()
    assert kept.payload == {"update_id": strange_id, **strange}  # kept as Telegram sent it
    assert kept.finished_at is not None  # set aside: not tried again at every start


async def test_a_stop_finishes_the_handler_in_flight(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.post("/drop\nEggs | 12")
    await story.start(story.alice)  # her typed join is answered to her, by the handler itself
    slow = Fault(method="sendMessage", chat_id=story.alice.id, status="slow", delay=1.5)
    tg.faults.append(slow)
    await tg.send(story.alice, story.group, "/join 1")
    await tg.wait_for(lambda: slow.times == 0)  # the reply is on the wire, slowly
    await story.runner.stop()
    reply = await tg.wait_message(story.alice, "No. 1", timeout=1)
    assert "Eggs" in reply.text


async def test_a_handler_cut_off_by_a_stop_is_finished_at_the_next_start(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.post("/drop\nEggs | 12")
    assert story.app is not None
    story.app.runner.drain_seconds = 0.3  # a stop that cannot wait for the reply
    await story.start(story.carol)  # her typed join is answered to her, by the handler itself
    slow = Fault(method="sendMessage", chat_id=story.carol.id, status="slow", delay=3)
    tg.faults.append(slow)
    asked = await tg.send(story.carol, story.group, "/join 1")
    await tg.wait_for(lambda: slow.times == 0)  # joined, and the reply is on the wire, slowly
    settings = story.runner.settings
    await story.runner.stop()  # cuts the handler off before its reply was answered
    assert await finished_at(settings.database_url, tg.update_of(asked)) is None

    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        reply = await tg.wait_message(story.carol, ("No. 1", "Eggs"))
        assert "Eggs" in reply.text
        mine = await story.privately(story.carol, "/mine", "Your orders")
        assert "×1" in mine.text  # joined once
        assert "×2" not in mine.text
        await tg.idle()
    finally:
        await runner.stop()  # which records what finished
    # Handled again at the start, to its end this time.
    assert await finished_at(settings.database_url, tg.update_of(asked)) is not None


async def finished_at(database_url: str, update_id: int) -> datetime | None:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        found = await session.scalar(
            select(InboxUpdate.finished_at).where(InboxUpdate.update_id == update_id)
        )
    await engine.dispose()
    return found


async def test_writing_to_the_bot_releases_what_waited(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.post("/drop min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await story.ask(story.leader, "/close 1", "formed")
    await tg.wait_message(story.group, "Alice")  # she cannot be written to yet
    await tg.send(story.alice, story.alice, "hello?")  # no /start: any message opens the chat
    code = await tg.wait_message(story.alice, "Your pickup code")
    assert re.search(r"\d{7}", code.text)


async def test_a_join_done_but_not_answered_is_answered_at_start(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    post = await story.post("/drop\nEggs | 12")
    await story.ask(story.bob, "/today", "Open now")  # Bob is known to the bot
    settings = story.runner.settings
    await story.runner.stop()

    # As if the bot was killed after Bob's press had joined him (committed, the update marked
    # handled) and before the press was answered.
    query = await tg.click(story.bob, post, "#1")
    update_id = tg.updates[-1]["update_id"]
    engine = create_engine(settings.database_url)
    async with create_session_factory(engine)() as session:
        await inbox.record(session, [(update_id, tg.updates[-1])], datetime.now(UTC))
        community = await session.scalar(
            select(Community.id).where(Community.chat_id == story.group.id)
        )
        assert community is not None
        await session.commit()  # the join below is its own unit of work, which marks the update
        with handling(update_id):
            await joins.join(
                session,
                community,
                story.bob.id,
                datetime.now(UTC),
                group_buy_id=JoinButton.unpack(query.data).group_buy_id,
            )
        handled = await session.scalar(
            select(InboxUpdate.handled_at).where(InboxUpdate.update_id == update_id)
        )
    await engine.dispose()
    assert handled is not None
    assert not query.answered

    runner = RunningBot(settings, tg)
    await runner.start()
    try:
        await tg.wait_answer(query)
        assert "No. 1" in (query.answer_text or "")  # his place, said after all
        await tg.idle()
        today = await story.ask(story.carol, "/today", "Open now")
        assert "1/1 member " in today.text  # and he is in once
        mine = await story.privately(story.bob, "/mine", "Your orders")
        assert "×1" in mine.text
        assert "×2" not in mine.text
    finally:
        await runner.stop()
