"""Paying in advance through Telegram Payments: reserve, pay, form; lapse; refunds owed."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.db import create_engine
from models import Order, OrderState, Payment, Refund
from tests.e2e.conftest import RunningBot, make_settings
from tests.e2e.story import CLOSED, Story
from tests.e2e.test_crash import start_bot
from tests.fakegram import FakeTelegram, FakeUser, Limits, Message
from tests.instances import bot_env

SPEED = 5

TOKEN = "284685063:TEST:prepaid-provider"


async def _cast(
    telegram: FakeTelegram, database_url: str, language: str, **settings: object
) -> AsyncIterator[Story]:
    cast = Story(telegram)
    if language == "zh":
        for person in (cast.leader, *cast.residents):
            person.language_code = "zh-hans"
    runner = RunningBot(
        make_settings(
            telegram,
            database_url,
            cast.admin.id,
            default_language=language,
            payment_provider_token=TOKEN,
            **settings,
        ),
        telegram,
    )
    cast.app = await runner.start()
    cast.runner = runner
    yield cast
    await runner.stop()


@pytest.fixture
async def prepaid(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Story]:
    """The usual cast, on a platform that takes payment in advance (CNY)."""
    async for cast in _cast(telegram, database_url, "en"):
        yield cast


@pytest.fixture
async def prepaid_zh(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Story]:
    async for cast in _cast(telegram, database_url, "zh"):
        yield cast


async def invoice_for(story: Story, user: FakeUser, after: int = 0) -> Message:
    return await story.tg.wait_for(  # type: ignore[no-any-return]
        lambda: next((m for m in story.tg.invoices(user) if m.serial > after), None), 10
    )


async def count(story: Story, what: object) -> int:
    assert story.app is not None
    async with story.app.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)  # type: ignore[arg-type]


async def test_pay_and_form(prepaid: Story) -> None:
    story, tg = prepaid, prepaid.tg
    await story.open_community()
    await story.start(story.alice)
    preview = await story.privately(
        story.admin, "/drop deadline=+5s min=1\nEggs | 12 | box | stock=5", "Draft drop"
    )
    assert "Paid in advance" in preview.text
    drop_id = re.search(r"Draft drop (\d+)", preview.text).group(1)  # type: ignore[union-attr]
    await tg.send(story.admin, story.admin, f"/publish {drop_id}")
    post = await tg.wait_for(lambda: next((m for m in tg.sent(story.group) if m.buttons), None))
    assert "pay privately" in post.text

    toast = await tg.wait_answer(await tg.click(story.alice, post, "#1"))
    assert "held for you" in toast
    invoice = await invoice_for(story, story.alice)
    assert invoice.invoice is not None
    assert invoice.invoice["currency"] == "CNY"
    assert invoice.invoice["total_amount"] == 1200
    assert "Sunny Garden" in invoice.invoice["description"]

    await story.privately(story.alice, "/mine", "held for you: pay the invoice")
    receipt = await tg.pay(story.alice, invoice)
    assert isinstance(receipt, Message), receipt
    thanks = await tg.wait_message(story.alice, "Paid ¥12.00", after=receipt.message_id)
    assert "No. 1" in thanks.text

    # Telegram sends the receipt again (the bot was thought to have missed it): recorded once.
    again = await tg.receipt(story.alice, invoice, charge="tg-charge-1")
    await tg.wait_message(story.alice, "No. 1", after=again.message_id)
    assert await count(story, Payment) == 1

    # Paying the same invoice twice is refused before any money moves.
    assert "already paid" in str(await tg.pay(story.alice, invoice))

    closed = await tg.wait_message(story.group, CLOSED, timeout=10)
    assert "Eggs formed" in closed.text
    await tg.wait_message(story.alice, "Your pickup code", timeout=10)


async def test_unpaid_lapses_and_a_late_payment_is_owed_back_in_chinese(
    prepaid_zh: Story,
) -> None:
    story, tg = prepaid_zh, prepaid_zh.tg
    await story.open_chinese_community()
    for person in (story.alice, story.bob):
        await story.start(person)
    await story.post("/drop deadline=+4s min=1\n鸡蛋 | 12 | stock=3")
    reserved = await story.typed(story.bob, "/join 1 2", "付款")
    assert "¥24.00" in reserved.text
    invoice = await invoice_for(story, story.bob)

    # Nobody pays before the deadline: the reservation lapses, the item fails.
    lapsed = await tg.wait_message(story.bob, "未按时付款", timeout=10)
    assert "鸡蛋" in lapsed.text
    await tg.wait_message(story.group, "已截团", timeout=10)
    status = await story.privately(story.admin, "/status", "Paying in advance")
    assert "0 reservations waiting for payment, 1 lapsed unpaid" in status.text
    assert "截团" in str(await tg.pay(story.bob, invoice))  # refused: no money moves

    # A payment that was already under way when it lapsed: kept, and owed back.
    late = await tg.receipt(story.bob, invoice)
    told = await tg.wait_message(story.bob, "退款", after=late.message_id)
    assert "¥24.00" in told.text
    assert await count(story, Refund) == 1

    owed = await story.privately(story.admin, "/refunds", "Refunds owed: 1")
    refund_id = re.search(r"\b(\d+)\b ·", owed.text).group(1)  # type: ignore[union-attr]
    await story.privately(story.admin, f"/refunded {refund_id}", "Marked 1")
    done = await tg.wait_message(story.bob, "退款", after=told.message_id)
    assert "已完成" in done.text
    await story.privately(story.admin, f"/refunded {refund_id}", f"No refund {refund_id}")


async def test_a_failed_item_and_a_cancelled_order_are_owed_back(prepaid: Story) -> None:
    story, tg = prepaid, prepaid.tg
    await story.open_community()
    for person in (story.alice, story.bob):
        await story.start(person)
    await story.post("/drop deadline=+5s min=3\nEggs | 12\nMilk | 8.5")
    for person, join in ((story.alice, "/join 1 2"), (story.bob, "/join 2")):
        await story.typed(person, join, "held for you")
        receipt = await tg.pay(person, await invoice_for(story, person))
        assert isinstance(receipt, Message), receipt
        await tg.wait_message(person, "Paid", after=receipt.message_id)
    left = await story.typed(story.bob, "/cancel 2", "will be refunded")
    assert "¥8.50" in left.text

    closed = await tg.wait_message(story.group, CLOSED, timeout=10)
    assert "Eggs did not form" in closed.text
    owed = await story.privately(story.admin, "/refunds", "Refunds owed: 2")
    assert "¥24.00 to Alice" in owed.text
    assert "did not form" in owed.text
    assert "¥8.50 to Bob" in owed.text
    assert "you left the item" in owed.text
    assert owed.text.index("Bob") < owed.text.index("Alice")  # oldest first

    await story.privately(story.admin, "/refunded all", "Marked 2", "¥32.50")
    await tg.wait_message(story.alice, "Your refund of ¥24.00")
    await tg.wait_message(story.bob, "Your refund of ¥8.50")
    await story.privately(story.admin, "/refunds", "No refunds are owed")
    assert story.app is not None
    async with story.app.session_factory() as session:
        paid = await session.scalar(select(func.sum(Payment.amount)))
        refunded = await session.scalar(select(func.sum(Refund.amount)))
    assert paid == refunded == 3250


async def test_bad_payments_are_refused_and_change_nothing(prepaid: Story) -> None:
    story, tg = prepaid, prepaid.tg
    await story.open_community()
    for person in (story.alice, story.bob):
        await story.start(person)
    await story.privately(story.admin, "/drop pay=later\nEggs | 12", "not a way to pay")
    post = await story.post("/drop deadline=+1h\nEggs | 12 | limit=3\nMilk | 8")
    await story.typed(story.alice, "/join 1 2", "held for you")
    invoice = await invoice_for(story, story.alice)

    # Another resident's invoice, another currency, a forged payload: refused, nothing paid.
    assert "not yours" in str(await tg.pay(story.bob, invoice))
    assert "another currency" in str(await tg.pay(story.alice, invoice, currency="USD"))
    assert invoice.invoice is not None
    forged = Message(**{**invoice.__dict__, "serial": 0})
    forged.invoice = {**invoice.invoice, "payload": "tb:o999999:a1200"}
    assert "do not know" in str(await tg.pay(story.alice, forged))
    forged.invoice = {**invoice.invoice, "payload": "drop table orders"}
    assert "do not know" in str(await tg.pay(story.alice, forged))
    assert await count(story, Payment) == 0
    # Money that arrives for no order the bot knows is kept, and owed back, never lost.
    stray = await tg.receipt(story.alice, forged)
    await tg.wait_message(story.alice, "no order I know", after=stray.message_id)
    listed = await story.privately(story.admin, "/refunds", "Refunds owed: 1")
    assert "¥24.00 to Alice" in listed.text
    await story.privately(story.admin, "/refunded all", "Marked 1")
    assert await count(story, Payment) == 1

    # Joining again while the reservation waits, or after paying: told what to do instead.
    await story.typed(story.alice, "/join 1", "already held for you", "/cancel 1")
    toast = await tg.wait_answer(await tg.click(story.alice, post, "#1"))
    assert "already held" in toast
    paid = await tg.pay(story.alice, invoice)
    assert isinstance(paid, Message), paid
    await tg.wait_message(story.alice, "No. 1", after=paid.message_id)
    await story.typed(story.alice, "/join 1", "You have paid for #1 Eggs ×2")
    async with story.app.session_factory() as session:  # type: ignore[union-attr]
        orders = (await session.scalars(select(Order))).all()
    assert [(o.quantity, o.state) for o in orders] == [(2, OrderState.JOINED)]
    assert await count(story, Payment) == 2

    # A resident who let the reservation go is not charged when the old invoice is paid.
    await story.typed(story.bob, "/join 2", "held for you")
    milk = await invoice_for(story, story.bob)
    await story.typed(story.bob, "/cancel 2", "let go of your reservation", "nothing is owed")
    assert "lapsed" in str(await tg.pay(story.bob, milk))

    # Residents cannot see or settle refunds.
    await story.privately(story.bob, "/refunds", "Only platform admins")
    await story.privately(story.admin, "/refunded soon", "Usage: /refunded")


async def test_without_a_provider_token_drops_are_paid_at_pickup(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.alice)
    await story.privately(story.admin, "/drop pay=now\nEggs | 12", "PAYMENT_PROVIDER_TOKEN")
    preview = await story.privately(story.admin, "/drop deadline=+1h\nEggs | 12", "Draft drop")
    assert "Paid at pickup" in preview.text
    await story.post("/drop deadline=+1h\nEggs | 12")
    await story.typed(story.alice, "/join 1", "No. 1")
    assert not tg.invoices(story.alice)


async def test_a_pay_at_pickup_drop_on_a_prepaid_platform(prepaid: Story) -> None:
    tg = prepaid.tg
    await prepaid.open_community()
    await prepaid.start(prepaid.alice)
    preview = await prepaid.privately(
        prepaid.admin, "/drop pay=pickup deadline=+1h\nEggs | 12", "Paid at pickup"
    )
    drop_id = re.search(r"Draft drop (\d+)", preview.text).group(1)  # type: ignore[union-attr]
    await tg.send(prepaid.admin, prepaid.admin, f"/publish {drop_id}")
    await tg.wait_for(lambda: any(m.buttons for m in tg.sent(prepaid.group)))
    await prepaid.typed(prepaid.alice, "/join 1", "No. 1")
    assert not tg.invoices(prepaid.alice)


async def test_a_resident_who_never_started_the_bot_gets_the_invoice_at_start(
    prepaid: Story,
) -> None:
    story, tg = prepaid, prepaid.tg
    await story.open_community()
    post = await story.post("/drop deadline=+1h\nEggs | 12")
    answer = await tg.wait_answer(await tg.click(story.carol, post, "#1"))
    assert "held for you" in answer
    assert "Start me privately to pay" in answer
    assert not tg.invoices(story.carol)
    await story.start(story.carol)
    invoice = await invoice_for(story, story.carol)
    receipt = await tg.pay(story.carol, invoice)
    assert isinstance(receipt, Message), receipt
    await tg.wait_message(story.carol, "Paid ¥12.00", after=receipt.message_id)


@pytest.fixture
async def stars(telegram: FakeTelegram, database_url: str) -> AsyncIterator[Story]:
    """A platform that sells in Telegram Stars (no provider token)."""
    cast = Story(telegram)
    runner = RunningBot(
        make_settings(
            telegram, database_url, cast.admin.id, default_language="en", payment_currency="XTR"
        ),
        telegram,
    )
    cast.app = await runner.start()
    cast.runner = runner
    yield cast
    await runner.stop()


async def test_stars_are_refunded_automatically(stars: Story) -> None:
    story, tg = stars, stars.tg
    await story.open_community()
    await story.start(story.alice)
    await story.post("/drop deadline=+4s min=2\nVoucher | 12.5")
    await story.typed(story.alice, "/join 1 2", "held for you")
    invoice = await invoice_for(story, story.alice)
    assert invoice.invoice is not None
    assert (invoice.invoice["currency"], invoice.invoice["total_amount"]) == ("XTR", 25)
    receipt = await tg.pay(story.alice, invoice)
    assert isinstance(receipt, Message), receipt
    await tg.wait_message(story.alice, "Paid 25 ⭐", after=receipt.message_id)

    # It does not form: the Stars go back through the Bot API, once, and Alice is told.
    await tg.wait_message(story.group, "did not form", timeout=10)
    done = await tg.wait_message(story.alice, "Your refund of 25 ⭐", timeout=10)
    assert "has been made" in done.text
    assert tg.star_refunds == [(story.alice.id, "tg-charge-1")]
    await story.privately(story.admin, "/refunds", "No refunds are owed")
    assert tg.count("refundStarPayment", 200) == 1


async def test_a_payment_is_recorded_once_across_a_kill_and_telegrams_retries(
    database_url: str,
) -> None:
    telegram = FakeTelegram(limits=Limits().scaled(SPEED))
    await telegram.start()
    story = Story(telegram)
    env = bot_env(telegram, database_url, story.admin.id, SPEED, PAYMENT_PROVIDER_TOKEN=TOKEN)
    bot = await start_bot(env, telegram)
    try:
        await story.open_community()
        await story.start(story.alice)
        await story.post("/drop deadline=+1h min=1\nEggs | 12 | stock=1")
        await story.typed(story.alice, "/join 1", "held for you")
        invoice = await invoice_for(story, story.alice)
        # The resident pays; the bot dies the moment Telegram hands it the receipt.
        receipt = await telegram.pay(story.alice, invoice)
        assert isinstance(receipt, Message), receipt
        bot.send_signal(signal.SIGKILL)
        await bot.wait()

        bot = await start_bot(env, telegram)
        await telegram.wait_message(story.alice, "Paid ¥12.00", timeout=30)
        # Telegram delivers it again, and again with a new update: still one payment, one member.
        await telegram.redeliver(telegram.update_of(receipt))
        again = await telegram.receipt(story.alice, invoice, charge="tg-charge-1")
        await telegram.wait_message(story.alice, "No. 1", after=again.message_id, timeout=30)
        await telegram.idle(quiet=1.0, timeout=30)
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                payments = await connection.scalar(select(func.count()).select_from(Payment))
                members = await connection.scalar(
                    select(func.count()).select_from(Order).where(Order.state == OrderState.JOINED)
                )
        finally:
            await engine.dispose()
        assert (payments, members) == (1, 1)
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), 30) == 0
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await telegram.stop()


async def test_a_shortage_of_a_paid_order_is_owed_back_in_part_in_chinese(
    prepaid_zh: Story,
) -> None:
    story, tg = prepaid_zh, prepaid_zh.tg
    await story.open_chinese_community()
    await story.start(story.alice)
    await story.post("/drop deadline=+3s min=1\n鸡蛋 | 12.5")
    await story.typed(story.alice, "/join 1 3", "付款")
    receipt = await tg.pay(story.alice, await invoice_for(story, story.alice))
    assert isinstance(receipt, Message), receipt
    await tg.wait_message(story.alice, "第 1 位", after=receipt.message_id)
    await tg.wait_message(story.alice, "🔑 你的提货码", timeout=10)

    # One box of the three did not arrive: ¥12.50 of the ¥37.50 paid is owed back, no more.
    await story.ask(story.leader, "/short 1 1", "鸡蛋")
    told = await tg.wait_message(story.alice, "将退还 ¥12.50")
    assert "你已预付" in told.text
    owed = await story.privately(story.admin, "/refunds", "Refunds owed: 1")
    assert "¥12.50 to Alice" in owed.text
    assert "part of it did not arrive" in owed.text
