"""Drops with pictures: photos per item, one picture per post, details, charts; and refusals."""

from __future__ import annotations

import io
import re
from datetime import datetime

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import create_session_factory
from bot.delivery.pictures import DropPictures
from bot.imaging.drop_picture import TILE, tile_origin
from bot.parts import Picture
from bot.sandbox.telegram import sample_image
from bot.services.kernel.effects import EffectBus
from models import Drop, ItemPhoto
from tests.e2e.story import Story
from tests.fakegram import TOKEN, FakeChat, FakeTelegram, Message
from tests.world import make_community, publish

RED, GREEN, BLUE = (210, 30, 30), (30, 170, 60), (30, 60, 200)


def photo_of(colour: tuple[int, int, int]) -> bytes:
    return sample_image(colour, (640, 480))


def tile_colour(picture: bytes, index: int, count: int) -> tuple[int, int, int]:
    """The colour in the upper middle of tile `index` (away from its badge and its band)."""
    with Image.open(io.BytesIO(picture)) as image:
        x, y = tile_origin(index, count)
        pixel = image.convert("RGB").getpixel((x + TILE * 3 // 4, y + TILE // 3))
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def near(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(colour, expected, strict=True))


async def add_community(story: Story, title: str) -> FakeChat:
    tg = story.tg
    group = tg.group(title, [story.admin, *story.residents])
    await tg.add_bot(group, story.admin)
    await tg.wait_message(group, "/register")
    await story.ask(story.admin, "/register", "is now a community", chat=group)
    return group


async def photo_post(story: Story, group: FakeChat) -> Message:
    return await story.tg.wait_for(  # type: ignore[no-any-return]
        lambda: next((m for m in story.tg.sent(group) if m.photo and m.buttons), None), 20
    )


async def test_a_drop_with_photos_is_one_picture_in_every_group(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    others = [await add_community(story, f"Block {n}") for n in (2, 3)]
    await story.start(story.admin)

    # /drop as a photo's caption: that photo is item 1's.
    sent = await tg.send_photo(
        story.admin,
        story.admin,
        "/drop deadline=+1h\nEggs | 12.5 | box\nMilk | 8 | desc=Fresh from the farm, 1 L\nRice | 30",
        image=photo_of(RED),
    )
    preview = await tg.wait_message(story.admin, "Draft drop", after=sent.message_id)
    drop_id = int(re.search(r"Draft drop (\d+)", preview.text).group(1))  # type: ignore[union-attr]
    assert "📷 1 photo" in preview.text
    assert "Fresh from the farm" in preview.text

    # Item 3 by a caption; item 2 by replying to the preview (its description changes too).
    sent = await tg.send_photo(story.admin, story.admin, "#3", image=photo_of(BLUE))
    added = await tg.wait_message(story.admin, "#3 Rice", after=sent.message_id)
    assert "1 photo (at most 5)" in added.text
    sent = await tg.send_photo(
        story.admin, story.admin, "2 Whole milk", image=photo_of(GREEN), reply_to=preview
    )
    added = await tg.wait_message(story.admin, "#2 Milk", after=sent.message_id)
    assert "Whole milk" in added.text

    await story.privately(story.admin, f"/publish {drop_id}", "posted to 3 communities")
    posts = [await photo_post(story, group) for group in (story.group, *others)]

    # One message per group: the picture, the post as its caption, Join and Details buttons.
    for post in posts:
        assert "Group-buy" in (post.caption or "")
        assert "#1 Eggs" in post.text and "#3 Rice" in post.text
        assert any("Join #1" in b["text"] for b in post.buttons)
        assert any("Details" in b["text"] for b in post.buttons)
        assert not [m for m in tg.sent(post.chat) if "Group-buy" in m.text and not m.photo]
    # Uploaded once; the other groups got the same file id.
    uploads = [r for r in tg.requests if r.method == "sendPhoto" and r.status == 200]
    assert len(uploads) == 3
    assert sum(isinstance(r.params["photo"], tuple) for r in uploads) == 1
    assert len({post.photo for post in posts}) == 1

    # The picture's tiles are in item order, each the colour of its item's first photo.
    picture = tg.files[posts[0].photo or ""]
    assert near(tile_colour(picture, 0, 3), RED)
    assert near(tile_colour(picture, 1, 3), GREEN)
    assert near(tile_colour(picture, 2, 3), BLUE)

    # The live post keeps working: a join edits the caption.
    await story.typed(story.alice, "/join 2", "No. 1")
    await tg.wait_for(lambda: "🙋 No. 1 Alice" in posts[0].text, 20)
    assert posts[0].photo is not None and posts[0].edits >= 1

    # Details, privately: the photo with everything about the item, and Join.
    await story.start(story.bob)
    query = await tg.click(story.bob, posts[0], "Details #2")
    assert "privately" in await tg.wait_answer(query)
    details = await tg.wait_message(story.bob, "Whole milk")
    assert details.photo is not None
    assert "1 joined" in details.text and "Pickup" in details.text
    press = await tg.click(story.bob, details, "Join #2")
    assert "No. 2" in await tg.wait_answer(press)


def png(size: tuple[int, int], colour: tuple[int, int, int] = (90, 90, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def test_bad_photos_and_files_are_refused_and_change_nothing(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.admin)
    admin = story.admin

    async def said(sent: Message, *expected: str) -> Message:
        return await tg.wait_message(admin, expected, after=sent.message_id)

    await said(await tg.send_photo(admin, admin, "#1"), "no draft drop")
    drop_id = await story.draft("/drop deadline=+1h\nEggs | 12\nMilk | 8")
    await said(await tg.send_photo(admin, admin, "#9"), "has no item #9", "2 items")
    await said(await tg.send_photo(admin, admin), "Which item")
    await said(await tg.send_photo(admin, admin, "eggs please"), "Which item")
    for n in range(1, 6):
        await said(await tg.send_photo(admin, admin, "#1", image=photo_of(RED)), f"{n} photo")
    await said(await tg.send_photo(admin, admin, "#1"), "already has 5 photos")

    # A description longer than an item may have: refused, and the photo not added either.
    await said(await tg.send_photo(admin, admin, "#2 " + "fresh " * 100), "500 characters")
    # Pictures sent as files are checked as Telegram checks a photo.
    await said(await tg.send_document(admin, admin, "menu.pdf", b"%PDF-1.7", "#2"), "not a picture")
    await said(await tg.send_document(admin, admin, "x.png", b"junk", "#2"), "not a picture")
    big = b"\x89PNG" + b"\0" * (10 * 1024 * 1024)
    await said(await tg.send_document(admin, admin, "big.png", big, "#2"), "over 10 MB")
    thin = png((2100, 100))
    await said(await tg.send_document(admin, admin, "thin.png", thin, "#2"), "long and thin")
    huge = png((9000, 1100))
    await said(await tg.send_document(admin, admin, "huge.png", huge, "#2"), "too large")
    # A good picture for an item the draft does not have is refused before it is sent back.
    good = png((800, 600), GREEN)
    await said(await tg.send_document(admin, admin, "x.png", good, "#9"), "has no item #9")
    assert tg.count("sendPhoto") == 0  # nothing was sent back for any of them
    # A good one is sent back as a photo and counts.
    sent = await tg.send_document(admin, admin, "milk.png", png((800, 600), GREEN), "#2")
    await said(sent, "#2 Milk", "1 photo")
    assert [m for m in tg.sent(admin) if m.photo and m.serial > sent.serial]

    # A resident's photo in a private chat is not taken for a drop.
    await story.start(story.bob)
    bob_photo = await tg.send_photo(story.bob, story.bob, "#1")
    await tg.idle()
    assert not [m for m in tg.sent(story.bob) if m.serial > bob_photo.serial and "photo" in m.text]

    # What was refused changed nothing: item 1 has its 5 photos, item 2 its one.
    await story.privately(admin, f"/publish {drop_id}", "posted")
    post = await photo_post(story, story.group)
    query = await tg.click(story.bob, post, "Details #1")
    await tg.wait_answer(query)
    album = await tg.wait_for(
        lambda: [m for m in tg.sent(story.bob) if m.media_group_id] or None, 10
    )
    assert len(album) == 5
    assert await tg.wait_message(story.bob, ("#1 Eggs", "Closes"))


async def test_an_album_goes_to_the_item_its_caption_names(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.admin)
    drop_id = await story.draft("/drop deadline=+1h\nEggs | 12\nPeaches | 20 | kg")
    first = await tg.send_photo(
        story.admin, story.admin, "#2 Juicy, from Yangshan", media_group_id="a1"
    )
    for _ in range(2):
        await tg.send_photo(story.admin, story.admin, None, media_group_id="a1")
    await tg.wait_message(story.admin, "#2 Peaches", after=first.message_id)
    await tg.idle()
    # One answer for the album, not one per photo.
    assert len([m for m in tg.sent(story.admin) if "📷 #2 Peaches" in m.text]) == 1
    await story.privately(story.admin, f"/publish {drop_id}", "posted")
    post = await photo_post(story, story.group)
    await story.start(story.carol)
    await tg.wait_answer(await tg.click(story.carol, post, "Details #2"))
    await tg.wait_message(story.carol, "Juicy, from Yangshan")
    assert len([m for m in tg.sent(story.carol) if m.media_group_id]) == 3


async def test_a_long_drop_sends_its_picture_first_and_the_list_after(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.admin)
    lines = "\n".join(
        f"Item {n} with a rather long name for the caption | {n}" for n in range(1, 9)
    )
    drop_id = await story.draft(f"/drop deadline=+1h\n{lines}")
    for n in (1, 5, 8):
        sent = await tg.send_photo(story.admin, story.admin, f"#{n}")
        await tg.wait_message(story.admin, f"#{n} Item {n}", after=sent.message_id)
    await story.privately(story.admin, f"/publish {drop_id}", "posted")
    post = await tg.wait_message(story.group, "Group-buy")
    picture = next(m for m in tg.sent(story.group) if m.photo)
    # The picture goes first, alone; the list with its eight Join buttons right after it.
    assert picture.message_id == post.message_id - 1
    assert not picture.caption and not picture.buttons
    assert post.photo is None
    assert len([b for b in post.buttons if "Join" in b["text"]]) == 8
    # Live edits touch the list, never the picture.
    await story.typed(story.alice, "/join 8", "No. 1")
    await tg.wait_for(lambda: "🙋 No. 1 Alice" in post.text, 20)
    assert picture.edits == 0
    with Image.open(io.BytesIO(tg.files[picture.photo or ""])) as image:
        assert image.size == (6 + 3 * (TILE + 6), 6 + 3 * (TILE + 6))  # 8 tiles: 3 × 3


async def test_item_command_and_a_link_for_those_the_bot_cannot_write_to(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    await story.start(story.admin)
    await story.post("/drop deadline=+1h\nEggs | 12 | desc=Thirty to a box\nMilk | 8")
    # Dan never started the bot: /item in the group offers the private chat, which then shows it.
    ask = await story.ask(story.residents[3], "/item 1", "can't write to you")
    link = ask.buttons[0]["url"]
    assert link.endswith("start=item-1")
    await story.start(story.residents[3], "item-1")
    await tg.wait_message(story.residents[3], "Thirty to a box")
    # Privately, /item n looks in the community of their latest order.
    refused = await story.privately(story.carol, "/item 1", "your community's group")
    assert "Details" in refused.text
    await story.typed(story.carol, "/join 2", "No. 1")
    await story.privately(story.carol, "/item 1", "Thirty to a box")
    await story.privately(story.carol, "/item 7", "no item #7")
    await story.privately(story.carol, "/item one", "/item n")


async def test_reports_come_with_a_chart(story: Story) -> None:
    tg = story.tg
    await story.open_community()
    for person in (story.admin, story.leader):
        await story.start(person)
    await story.post("/drop deadline=+1h\nEggs | 12\nMilk | 8")
    await story.typed(story.alice, "/join 1 2", "No. 1")
    await story.typed(story.bob, "/join 2", "No. 1")

    text = await story.ask(story.leader, "/report 7", "Sent to you privately")
    assert text
    figures = await tg.wait_message(story.leader, "Orders and sales")
    assert "Sunny Garden, last 7 days" in figures.text
    assert "Orders: 2 · sales: ¥32.00" in figures.text
    chart = await tg.wait_for(lambda: next((m for m in tg.sent(story.leader) if m.photo), None))
    with Image.open(io.BytesIO(tg.files[chart.photo])) as image:
        assert image.format == "PNG" and image.size == (900, 480)

    platform = await story.privately(story.admin, "/report", "the platform, last 30 days")
    assert "Top communities" in platform.text and "Sunny Garden" in platform.text
    await tg.wait_for(lambda: next((m for m in tg.sent(story.admin) if m.photo), None))
    await story.privately(story.admin, "/report 400", "1 to 365")
    await story.privately(story.admin, "/report soon", "/report [days]")
    # A resident has no report.
    await story.start(story.carol)
    await story.privately(story.carol, "/report", "leader")


async def test_pictures_details_and_charts_in_chinese(chinese: Story) -> None:
    story, tg = chinese, chinese.tg
    await story.open_chinese_community()
    for person in (story.admin, story.leader, story.alice):
        await story.start(person)

    drop_id = await story.draft(
        "/drop deadline=+1h\n土鸡蛋 | 12.5 | 盒 | desc=散养土鸡蛋，30枚\n牛奶 | 8"
    )
    await story.privately(story.admin, "/lang zh", "中文")
    sent = await tg.send_photo(story.admin, story.admin, "＃1", image=photo_of(RED))
    await tg.wait_message(story.admin, ("#1 土鸡蛋", "1 张照片"), after=sent.message_id)
    sent = await tg.send_photo(story.admin, story.admin, "#9")
    await tg.wait_message(story.admin, "没有第 #9 件商品", after=sent.message_id)
    await story.privately(story.admin, f"/publish {drop_id}", "1")

    post = await photo_post(story, story.group)
    assert "社区团购" in post.text and "#1 土鸡蛋" in post.text
    assert any("详情 #1" in b["text"] for b in post.buttons)
    await tg.wait_answer(await tg.click(story.alice, post, "详情 #1"))
    details = await tg.wait_message(story.alice, "散养土鸡蛋")
    assert details.photo is not None and "至少需要 1 人" in details.text

    await story.ask(story.leader, "/report", "已私聊发送")
    await tg.wait_message(story.leader, "订单与销售额")
    await tg.wait_for(lambda: next((m for m in tg.sent(story.leader) if m.photo), None))


async def test_a_picture_telegram_forgot_is_drawn_and_uploaded_again(
    telegram: FakeTelegram, engine: AsyncEngine, session: AsyncSession, now: datetime
) -> None:
    """A file id is not forever: a post that finds its picture's refused draws it again, once,
    and keeps the new id."""
    await make_community(session, now)
    drop_id = (await publish(session, "/drop\nEggs | 12\nMilk | 8", now)).drop_id
    telegram.files["eggs-photo"] = photo_of(RED)
    session.add(ItemPhoto(drop_item_id=1, position=1, file_id="eggs-photo"))
    await session.commit()
    group = telegram.group("Sunny Garden")
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    await telegram.add_bot(group, telegram.user("Ada"))
    pictures = DropPictures(bot, create_session_factory(engine, EffectBus()), "¥")
    try:
        stale = Picture(drop_id, 1, "a-file-id-telegram-forgot")
        sent = await pictures.send(stale, lambda photo: bot.send_photo(group.id, photo))
        again = await pictures.send(stale, lambda photo: bot.send_photo(group.id, photo))
    finally:
        await bot.session.close()
    assert sent.photo and again.photo
    assert telegram.uploads == 1 and pictures.drawn == 1
    assert again.photo[-1].file_id == sent.photo[-1].file_id  # the new id, from then on
    kept = await session.scalar(
        select(Drop.picture_file_ids)
        .where(Drop.id == drop_id)
        .execution_options(populate_existing=True)
    )
    assert kept == {"1": sent.photo[-1].file_id}
    assert near(tile_colour(telegram.files[sent.photo[-1].file_id], 0, 2), RED)
