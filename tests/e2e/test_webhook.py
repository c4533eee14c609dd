"""Webhook mode: Telegram posts updates to the instance, which checks the secret, stores each
update before answering 200, and serves the same story as polling does."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from bot.app import TuanBot
from bot.db import create_engine, create_session_factory
from models import InboxUpdate
from tests.e2e.conftest import make_settings
from tests.e2e.story import CLOSED, Story
from tests.fakegram import FakeTelegram
from tests.instances import free_port

SECRET = "s3cret-token_1"


async def stored_update_ids(database_url: str) -> set[int]:
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        ids = set((await session.scalars(select(InboxUpdate.update_id))).all())
    await engine.dispose()
    return ids


async def test_a_webhook_instance_stores_before_it_answers_and_serves_the_story(
    telegram: FakeTelegram, database_url: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    story = Story(telegram)
    settings = make_settings(
        telegram,
        database_url,
        story.admin.id,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_host="127.0.0.1",
        webhook_port=port,
    )
    app = TuanBot(settings)
    task = asyncio.create_task(app.run(handle_signals=False))
    await telegram.wait_for(lambda: telegram.webhook_url == url or task.done(), timeout=20)
    assert not task.done()
    assert telegram.webhook_secret == SECRET
    try:
        await story.open_community()
        await story.start(story.alice)
        post = await story.post("/drop deadline=+3s min=1\nEggs | 12")
        await story.typed(story.alice, "/join 1", "No. 1")
        pressed = await telegram.click(story.bob, post, "#1")
        assert "No. 2" in await telegram.wait_answer(pressed)
        closed = await telegram.wait_message(story.group, CLOSED, timeout=10)
        assert "Eggs formed" in closed.text

        # An update the bot cannot read is stored, acknowledged and set aside: answered with
        # an error, Telegram would send it again and again and hold back the ones after it.
        strange_id = await telegram.deliver({"message": {"message_id": 5, "date": 0}})
        await story.ask(story.carol, "/today", "Nothing is open")  # the drop has closed
        assert strange_id in await stored_update_ids(database_url)

        # Every update Telegram saw acknowledged was stored first.
        assert telegram.delivered
        assert telegram.delivered <= await stored_update_ids(database_url)

        # A request without the secret, or with a wrong one, is refused and not stored.
        forged = {
            "update_id": 987654,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "text": "/start",
            },
        }
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=forged, headers=headers) as response:
                    assert response.status == 401
            good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with http.post(url, data=b"not json", headers=good) as response:
                assert response.status == 400
            async with http.post(url, json={"message": {}}, headers=good) as response:
                assert response.status == 400  # no update_id: not an update
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
        assert 987654 not in await stored_update_ids(database_url)
    finally:
        await app.stop()
        await asyncio.wait_for(task, 20)
