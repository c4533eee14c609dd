"""After-sale end to end: a cancellation after forming, approved by an admin, refused once the
date has shipped; a return with a description and photos, decided with the admins' buttons."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.db import create_engine, create_session_factory
from models import Order, OrderState
from tests.e2e.story import CLOSED, Story


async def test_cancelling_a_formed_order_needs_an_admin_and_ends_when_goods_ship(
    story: Story,
) -> None:
    tg = story.tg
    await story.open_community()
    for person in (story.admin, story.alice, story.bob):
        await story.start(person)
    await story.post("/drop deadline=+3s min=1\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    await story.typed(story.bob, "/join 1 2", "No. 2")
    await tg.wait_message(story.group, CLOSED, timeout=10)

    asked = await story.typed(story.bob, "/cancel 1", "needs the platform's approval")
    assert "#1 Eggs" in asked.text
    await story.typed(story.bob, "/cancel 1", "already waiting")
    request = await tg.wait_message(story.admin, "Cancellation request")
    assert "Bob in Sunny Garden: #1 Eggs ×2" in request.text and "¥24.00" in request.text

    # Only an admin decides: anyone else's press is refused and changes nothing.
    refused = await tg.click(story.bob, request, "Approve")
    assert "admin" in await tg.wait_answer(refused)
    approved = await tg.click(story.admin, request, "Approve")
    assert "resident is told" in await tg.wait_answer(approved)
    await tg.wait_for(lambda: "cancellation approved for Bob" in request.text)
    assert request.buttons == []
    told = await tg.wait_message(story.bob, "Your cancellation of #1 Eggs was approved")
    assert "¥24.00" in told.text
    mine = await story.privately(story.bob, "/mine", "Your orders")
    assert "cancelled" in mine.text

    shipped = await story.privately(story.admin, "/shipping", "Shipping list")
    assert "#1 Eggs ×1" in shipped.text and "Marked as shipped" in shipped.text
    again = await story.privately(story.admin, "/shipping", "Shipping list")
    assert "Already marked as shipped" in again.text
    await story.typed(story.alice, "/cancel 1", "Too late to cancel")


async def test_a_return_with_a_description_and_photos_decided_by_an_admin(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    for person in (story.admin, story.alice, story.leader):
        await story.start(person)
    await story.buy_and_pick_up(
        story.alice,
        "/drop deadline=+3s min=1\nEggs | 12\nPeaches | 30 | noreturn\nMilk | 8 | return=24h",
        "/join 1",
        "/join 2",
        "/join 3",
    )
    await story.privately(story.alice, "/points", "Your points: 50")

    await story.typed(story.alice, "/return", "private chat")
    menu = await story.privately(story.alice, "/return", "Which order")
    assert "(no returns)" in menu.button("Peaches")["text"]
    peaches = await tg.click(story.alice, menu, "Peaches")
    assert "cannot be returned" in await tg.wait_answer(peaches)

    await tg.click(story.alice, menu, "Eggs")
    await tg.wait_message(story.alice, "What is wrong with it")
    first = await tg.send_photo(story.alice, story.alice)
    await tg.wait_message(story.alice, "First describe the problem", after=first.message_id)
    await story.privately(story.alice, "Three eggs were cracked.", "at least 2 photos")
    await story.privately(story.alice, "/done", "you sent 0")
    one = await tg.send_photo(story.alice, story.alice)
    await tg.wait_message(story.alice, "1 photo received", after=one.message_id)
    two = await tg.send_photo(story.alice, story.alice, caption="close-up")
    await tg.wait_message(story.alice, "2 photos received", after=two.message_id)
    sent = await story.privately(story.alice, "/done", "Return request")
    assert "#1 Eggs" in sent.text and "2 photos" in sent.text

    request = await tg.wait_message(story.admin, "Return request")
    assert "Problem: Three eggs were cracked." in request.text
    album = [m for m in tg.sent(story.admin) if m.photo]
    assert [m.photo for m in album] == [
        f"photo-{story.alice.id}-{one.message_id}",
        f"photo-{story.alice.id}-{two.message_id}",
    ]
    await tg.click(story.admin, request, "Approve")
    told = await tg.wait_message(story.alice, "Your return of #1 Eggs was approved")
    assert "¥12.00" in told.text
    await story.privately(story.alice, "/points", "Your points: 38")
    mine = await story.privately(story.alice, "/mine", "Your orders")
    assert "returned" in mine.text
    await tg.wait_for(lambda: "return approved for Alice" in request.text)
    assert request.buttons == []  # decided: the buttons are gone

    # Two days later, the milk's 24-hour window has ended.
    engine = create_engine(story.runner.settings.database_url)
    async with create_session_factory(engine)() as session:
        for order in await session.scalars(
            select(Order).where(Order.state == OrderState.PICKED_UP)
        ):
            assert order.picked_up_at is not None
            order.picked_up_at -= timedelta(days=2)
        await session.commit()
    await engine.dispose()
    menu = await story.privately(story.alice, "/return", "Which order")
    assert "(too late)" in menu.button("Milk")["text"]
    assert "Eggs" not in str(menu.buttons)  # already returned
    late = await tg.click(story.alice, menu, "Milk")
    assert "The return window of Milk ended at" in await tg.wait_answer(late)
