"""The sandbox as someone trying tuanbot would use it: in a browser, no Telegram account."""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.sandbox.run import DATABASE, NotTheSandboxDatabase, Options, Sandbox, sandbox_settings
from tests.browser.conftest import Running, shot

CODE = re.compile(r"\b\d{7}\b")


async def act_as(page: Any, name: str, chat: str) -> None:
    await page.locator("#personas li", has_text=name).click()
    await page.locator("#chats li", has_text=chat).click()
    await page.wait_for_function(
        "title => document.getElementById('chat-title').textContent.includes(title)", arg=chat
    )


async def send(page: Any, text: str) -> None:
    await page.fill("#text", text)
    await page.press("#text", "Enter")


async def bot_said(page: Any, *parts: str, timeout: float = 20_000) -> Any:
    """The bot's latest message in the chat shown that has every part (waiting for it)."""
    bubble = page.locator(".msg", has=page.locator(".from", has_text="Tuan Bot"))
    for part in parts:
        bubble = bubble.filter(has_text=re.compile(re.escape(part)))  # as written, case too
    await bubble.last.wait_for(timeout=timeout)
    return bubble.last


async def publish(page: Any, drop: str) -> None:
    await act_as(page, "Ada", "private")
    await send(page, drop)
    preview = await bot_said(page, "Draft drop")
    drop_id = re.search(r"/publish (\d+)", await preview.inner_text())
    assert drop_id, await preview.inner_text()
    await send(page, f"/publish {drop_id.group(1)}")
    await bot_said(page, "posted to 2 communities")


async def test_a_resident_joins_with_the_button_and_the_post_changes(page: Any) -> None:
    await publish(page, "/drop deadline=+1h min=2\nFree-range eggs | 12.5 | box\nMilk | 8")
    await act_as(page, "Alice", "Sunny Garden")
    post = await bot_said(page, "Group-buy", "Free-range eggs")
    await post.get_by_role("button", name=re.compile("Join #1")).click()
    toast = page.locator("#toast")
    await toast.filter(has_text="No. 1").wait_for()
    # The live post is edited in place: Alice on its 接龙 list, 1 of 2 members.
    await page.locator(".msg", has_text="🙋 No. 1 Alice").wait_for(timeout=20_000)
    assert "1/2" in await page.locator(".msg", has_text="🙋 No. 1 Alice").inner_text()
    await shot(page, "joined")
    assert page.errors == []


async def test_the_pickup_code_arrives_privately_after_the_deadline(page: Any) -> None:
    await publish(page, "/drop deadline=+6s\nPeaches | 30 | 2 kg")
    await act_as(page, "Bob", "Sunny Garden")
    await send(page, "/join 1")
    await act_as(page, "Bob", "private")
    await bot_said(page, "No. 1")
    code = await bot_said(page, "Your pickup code", timeout=40_000)
    assert CODE.search(await code.inner_text())
    # Never in the group.
    await act_as(page, "Bob", "Sunny Garden")
    await bot_said(page, "Closed")
    assert not CODE.search(await page.locator("#messages").inner_text())
    assert page.errors == []


async def test_the_picking_list_csv_downloads(page: Any) -> None:
    await publish(page, "/drop deadline=+5s\nRice | 30 | 5 kg")
    await act_as(page, "Carol", "Sunny Garden")
    await send(page, "/join 1 2")
    await act_as(page, "Lin", "Sunny Garden")
    await bot_said(page, "Closed", timeout=40_000)
    await act_as(page, "Lin", "private")
    await send(page, "/summary")
    await bot_said(page, "Rice")
    link = page.locator(".doc a").last
    await link.wait_for()
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    path = await download.path()
    content = await asyncio.to_thread(Path(path).read_text, encoding="utf-8-sig")
    assert download.suggested_filename.endswith(".csv")
    assert "Carol" in content and "Rice" in content
    assert page.errors == []


@pytest.mark.timeout(240)
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_guided_tour_plays_the_whole_day(page: Any, language: str) -> None:
    if language == "zh":
        await page.click("#lang-zh")
        await page.locator("#tour-start", has_text="导览").wait_for()
    await page.click("#tour-start")
    caption = page.locator("#tour-caption")
    seen: list[str] = []
    finished = "导览结束" if language == "zh" else "Tour finished"
    for _ in range(400):
        text = await caption.inner_text()
        if text and text not in seen:
            seen.append(text)
            await shot(page, f"tour-{language}-{len(seen):02d}")
        if finished in text or ("中断" in text or "stopped" in text):
            break
        await page.wait_for_timeout(500)
    assert finished in await caption.inner_text(), seen
    assert len(seen) >= 10  # every step's caption was shown on the way
    # The day really happened: Alice's return was approved, in her private chat.
    await act_as(page, "Alice", "Tuan Bot")
    await bot_said(page, "退货" if language == "zh" else "return")
    assert page.errors == []


def test_the_sandbox_refuses_a_database_that_is_not_its_own(tmp_path: Path) -> None:
    foreign = tmp_path / DATABASE
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE orders (id INTEGER)")
    sandbox = Sandbox(Options(data=tmp_path, port=0, browser=False, fresh=True))
    with pytest.raises(NotTheSandboxDatabase):
        asyncio.run(sandbox.run())
    assert foreign.exists()  # --fresh did not delete it either
    with sqlite3.connect(foreign) as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (0,)


def test_the_sandbox_never_reads_where_to_connect_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_API_URL", "https://api.telegram.org")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://prod@db/tuanbot")
    monkeypatch.setenv("BOT_TOKEN", "999:REAL-token")
    monkeypatch.setenv("REDIS_URL", "redis://prod:6379/0")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/hook")
    settings = sandbox_settings("http://127.0.0.1:1234", tmp_path / DATABASE, 1, "en")
    assert settings.telegram_api_url == "http://127.0.0.1:1234"
    assert settings.database_url.endswith(f"{tmp_path}/{DATABASE}")
    assert settings.bot_token.get_secret_value().startswith("123456789:")
    assert settings.redis_url is None and settings.webhook_url is None


async def test_the_world_is_kept_between_runs(tmp_path: Path) -> None:
    from tests.browser.conftest import start_sandbox

    first = await start_sandbox(tmp_path)
    tg = first.sandbox.telegram
    alice = first.sandbox.world.named("Alice")
    sent = await tg.send(alice, alice, "/mine")
    await tg.wait_message(alice, "orders", after=sent.message_id)
    said = [m.text for m in tg.history[alice.id]]
    first.stop.set()
    await first.task
    again: Running = await start_sandbox(tmp_path)
    try:
        tg = again.sandbox.telegram
        assert [m.text for m in tg.history[alice.id]] == said
        # The bot goes on where it was: a new message is answered, not taken for an old one.
        sent = await tg.send(tg.users[alice.id], tg.users[alice.id], "/points")
        await tg.wait_message(alice.id, "points", after=sent.message_id)
    finally:
        again.stop.set()
        await again.task


async def test_photos_uploaded_in_the_page_and_a_deep_link_for_a_newcomer(page: Any) -> None:
    # Ada drafts, then uploads item 1's photo from the page, captioned #1.
    await act_as(page, "Ada", "private")
    await send(page, "/drop deadline=+1h\nHoney | 45 | jar")
    await bot_said(page, "Draft drop")
    await page.fill("#text", "#1 Wildflower, from the hills")
    await page.set_input_files(
        "#photo", files=[{"name": "honey.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    await bot_said(page, "#1 Honey", "1 photo")
    preview = await bot_said(page, "Draft drop")
    drop_id = re.search(r"/publish (\d+)", await preview.inner_text())
    assert drop_id
    await send(page, f"/publish {drop_id.group(1)}")
    await bot_said(page, "posted to 2 communities")
    # Dan never opened a private chat: Details opens it through its start link.
    await act_as(page, "Dan", "River Court")
    post = await bot_said(page, "Group-buy", "Honey")
    assert await post.locator("img").count() == 1  # the drop's picture
    await post.get_by_role("button", name=re.compile("Details #1")).click()
    await page.wait_for_function(
        "() => document.getElementById('chat-title').textContent.includes('private')"
    )
    details = await bot_said(page, "Wildflower, from the hills")
    assert await details.locator("img").count() == 1
    assert page.errors == []


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (230, 170, 40)).save(out, "PNG")
    return out.getvalue()


async def test_people_are_added_and_renamed_in_the_page(page: Any) -> None:
    await page.fill("#new-name", "Erin")
    await page.press("#new-name", "Enter")
    await page.locator("#personas li", has_text="Erin").wait_for()
    page.once("dialog", lambda dialog: dialog.accept("Caroline"))
    await page.locator("#personas li", has_text="Carol").dblclick()
    await page.locator("#personas li", has_text="Caroline").wait_for()
    # Erin lives by Sunny Garden and talks to the bot like anyone: the bot knows her new name too.
    await act_as(page, "Erin", "Sunny Garden")
    await send(page, "/today")
    await bot_said(page, "Nothing is open")
    await act_as(page, "Caroline", "private")
    await send(page, "/start")
    await bot_said(page, "Hello, Caroline")
    assert page.errors == []
