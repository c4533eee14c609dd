"""The guided tour: a day of group-buying played step by step in the sandbox, with a caption.

Each step acts as one persona through the local Telegram server (sending, pressing buttons,
sending photos) and waits until the bot has answered, then the page shows the chat where it
happened. The deadline is real, just short: the drop closes one minute after it is posted (the
sandbox has no clock to move). The tour can be paused between steps; the user may act at any
time, the tour only looks for its own messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

from bot.sandbox.telegram import FakeChat, FakeTelegram, FakeUser, Message
from bot.sandbox.world import World

log = logging.getLogger(__name__)

PAUSE = 2.5  # seconds between steps, to read the caption
_CODE = re.compile(r"\b\d{7}\b")

DROP = {
    "en": "/drop deadline={deadline} min=2\n"
    "Free-range eggs | 25 | box of 30 | limit=3 | desc=From the hills outside town, "
    "laid this week\n"
    "Whole milk 1L | 8 | stock=50\n"
    "Yangshan peaches | 30 | 2 kg",
    "zh": "/drop deadline={deadline} min=2\n"
    "散养土鸡蛋 | 25 | 30枚一盒 | limit=3 | desc=城郊山里散养，本周新鲜\n"
    "鲜牛奶 1L | 8 | stock=50\n"
    "阳山水蜜桃 | 30 | 2公斤",
}


@dataclass(frozen=True)
class Step:
    caption: dict[str, str]
    who: str  # the persona the page shows
    where: str  # "group" or "private": the chat the page shows
    act: Callable[[TourRun], Awaitable[None]]


class TourRun:
    """What one run of the tour has found out so far (the drop, the post, a code)."""

    def __init__(self, world: World, language: str, deadline: str) -> None:
        self.world = world
        self.tg: FakeTelegram = world.telegram
        self.language = language
        self.deadline = deadline
        self.group: FakeChat = world.groups[0]
        self.drop_id = 0
        self.post: Message | None = None
        self.code = ""
        # Only what the bot says from now on counts (an earlier tour said the same things).
        self.since = max(
            (m.serial for messages in self.tg.history.values() for m in messages), default=0
        )

    def person(self, name: str) -> FakeUser:
        return self.world.named(name)

    def latest(self, chat: FakeChat | FakeUser, check: Callable[[Message], bool]) -> Message | None:
        """The bot's latest message in `chat` during this run that passes `check`."""
        return next(
            (m for m in reversed(self.tg.sent(chat)) if m.serial > self.since and check(m)), None
        )

    async def answered(self, user: FakeUser, sent: Message) -> None:
        """Until the bot answered `sent`, privately or in the group."""
        await self.tg.wait_for(
            lambda: any(
                m.serial > sent.serial for chat in (user, self.group) for m in self.tg.sent(chat)
            ),
            timeout=30,
        )

    async def say(self, who: str, text: str, chat: FakeChat | FakeUser | None = None) -> Message:
        """`who` writes `text`; the bot's first answer in that chat is returned."""
        user = self.person(who)
        where = chat or user
        sent = await self.tg.send(user, where, text)
        return await self.tg.wait_message(where, "", after=sent.message_id, timeout=30)

    async def press(self, who: str, message: Message, data_prefix: str, text: str = "") -> str:
        """`who` presses the first button whose callback data starts with `data_prefix`."""
        button = next(
            (
                b
                for b in message.buttons
                if b.get("callback_data", "").startswith(data_prefix) and text in b["text"]
            ),
            None,
        )
        if button is None:
            raise RuntimeError(f"no {data_prefix!r} button on: {message.text[:80]}")
        query = await self.tg.click(self.person(who), message, button["text"])
        return await self.tg.wait_answer(query, timeout=30)


async def _draft(run: TourRun) -> None:
    if run.language == "zh":
        await run.say("Lin", "/lang zh", run.group)
    preview = await run.say("Ada", DROP[run.language].replace("{deadline}", run.deadline))
    found = re.search(r"/publish (\d+)", preview.text)
    if found is None:
        raise RuntimeError(f"no draft: {preview.text}")
    run.drop_id = int(found.group(1))


async def _photo(run: TourRun) -> None:
    ada = run.person("Ada")
    for number, colour in ((1, (214, 160, 90)), (3, (240, 150, 140))):
        sent = await run.tg.send_photo(ada, ada, f"#{number}", image=_product(colour))
        await run.tg.wait_message(ada, "", after=sent.message_id, timeout=30)


async def _publish(run: TourRun) -> None:
    before = max((m.message_id for m in run.tg.sent(run.group)), default=0)
    await run.say("Ada", f"/publish {run.drop_id}")
    run.post = await run.tg.wait_for(
        lambda: next(
            (m for m in run.tg.sent(run.group) if m.message_id > before and m.buttons), None
        ),
        timeout=60,
    )


async def _press_join(run: TourRun) -> None:
    assert run.post is not None
    await run.press("Alice", run.post, "j:", "#1")


async def _type_join(run: TourRun) -> None:
    bob = run.person("Bob")
    await run.answered(bob, await run.tg.send(bob, run.group, "/join 1 2"))


async def _milk(run: TourRun) -> None:
    carol = run.person("Carol")
    await run.answered(carol, await run.tg.send(carol, run.group, "/join 2"))


async def _deadline(run: TourRun) -> None:
    alice = run.person("Alice")
    coded = await run.tg.wait_for(
        lambda: run.latest(alice, lambda m: bool(_CODE.search(m.text))), timeout=150
    )
    found = _CODE.search(coded.text)
    assert found is not None
    run.code = found.group()


async def _arrived(run: TourRun) -> None:
    await run.say("Lin", "/arrived", run.group)


async def _pickup(run: TourRun) -> None:
    await run.say("Lin", f"/pickup {run.code}")


async def _return(run: TourRun) -> None:
    alice = run.person("Alice")
    sent = await run.tg.send(alice, alice, "/return")
    # The menu, not whatever else reaches Alice meanwhile: the arrival's "ready" notice is
    # queued and can come after her /return.
    menu = await run.tg.wait_for(
        lambda: next(
            (
                m
                for m in run.tg.sent(alice)
                if m.message_id > sent.message_id
                and any(b.get("callback_data", "").startswith("ret:") for b in m.buttons)
            ),
            None,
        ),
        timeout=30,
    )
    asked = len(run.tg.sent(alice))
    await run.press("Alice", menu, "ret:")
    await run.tg.wait_for(lambda: len(run.tg.sent(alice)) > asked, 30)  # "what is wrong?"
    await run.say(
        "Alice",
        "两个鸡蛋碎了。" if run.language == "zh" else "Two of the eggs were cracked.",
    )
    for colour in ((230, 220, 200), (220, 200, 180)):
        sent = await run.tg.send_photo(alice, alice, None, image=_product(colour))
        await run.tg.wait_message(alice, "", after=sent.message_id, timeout=30)
    await run.say("Alice", "/done")


async def _approve(run: TourRun) -> None:
    ada = run.person("Ada")
    request = await run.tg.wait_for(
        lambda: run.latest(
            ada, lambda m: any(b.get("callback_data", "").startswith("as:") for b in m.buttons)
        ),
        timeout=30,
    )
    await run.press("Ada", request, "as:", "")
    await run.tg.idle(quiet=0.5, timeout=30)


async def _done(run: TourRun) -> None:
    return None


STEPS: tuple[Step, ...] = (
    Step(
        {
            "en": "Ada, the platform admin, drafts today's drop privately with /drop.",
            "zh": "平台管理员 Ada 私聊机器人，用 /drop 起草今天的预售。",
        },
        "Ada",
        "private",
        _draft,
    ),
    Step(
        {
            "en": "She sends photos of items 1 and 3, captioned #1 and #3.",
            "zh": "她发送第 1 和第 3 件商品的照片，说明写 #1 和 #3。",
        },
        "Ada",
        "private",
        _photo,
    ),
    Step(
        {
            "en": "/publish posts it in every community: one picture, the list, Join buttons.",
            "zh": "/publish 发布到所有社区：一张商品图、清单和参团按钮。",
        },
        "Alice",
        "group",
        _publish,
    ),
    Step(
        {
            "en": "Alice presses Join on item 1: the button answers, the post counts her.",
            "zh": "Alice 点第 1 件商品的参团按钮：按钮立即回应，团购帖更新人数。",
        },
        "Alice",
        "group",
        _press_join,
    ),
    Step(
        {
            "en": "Bob types /join 1 2: confirmed privately; the post's 接龙 list shows him.",
            "zh": "Bob 在群里发送 /join 1 2：私聊确认，团购帖的接龙名单出现他。",
        },
        "Bob",
        "group",
        _type_join,
    ),
    Step(
        {"en": "Carol joins the milk.", "zh": "Carol 参团牛奶。"},
        "Carol",
        "private",
        _milk,
    ),
    Step(
        {
            "en": "The deadline passes (one minute after posting, in the sandbox): item 1 "
            "formed, and each buyer gets a 7-digit pickup code privately.",
            "zh": "截团时间到（沙盒里为发布后一分钟）：第 1 件成团，每位买家私聊收到 7 位提货码。",
        },
        "Alice",
        "private",
        _deadline,
    ),
    Step(
        {
            "en": "Next day Lin, the leader, confirms the goods arrived: every buyer is told.",
            "zh": "第二天团长 Lin 确认到货：每位买家都收到通知。",
        },
        "Lin",
        "group",
        _arrived,
    ),
    Step(
        {
            "en": "Alice shows her code; Lin hands the goods over with /pickup.",
            "zh": "Alice 出示提货码，Lin 用 /pickup 核销发货。",
        },
        "Lin",
        "private",
        _pickup,
    ),
    Step(
        {
            "en": "Alice asks for a return: the order, what is wrong, two photos, /done.",
            "zh": "Alice 申请退货：选择订单、描述问题、两张照片、/done。",
        },
        "Alice",
        "private",
        _return,
    ),
    Step(
        {
            "en": "Ada approves it with one press; Alice is told privately.",
            "zh": "Ada 一键批准，Alice 私聊收到通知。",
        },
        "Ada",
        "private",
        _approve,
    ),
    Step(
        {
            "en": "That was the day. Now try anything yourself: pick a persona on the left.",
            "zh": "这就是一天的流程。现在请自己试试：在左边选择一个角色。",
        },
        "Alice",
        "group",
        _done,
    ),
)


class Tour:
    def __init__(
        self, world: World, language: str, deadline: str = "+1m", pause: float = PAUSE
    ) -> None:
        self.world = world
        self.language = language
        self.deadline = deadline
        self.pause_between = pause
        self.version = 0
        self.step = -1  # the step shown (-1: not started)
        self.status = "idle"  # idle | running | paused | finished | failed
        self.error = ""
        self._resume = asyncio.Event()
        self._resume.set()
        self._task: asyncio.Task[None] | None = None

    def state(self) -> dict[str, Any]:
        step = STEPS[self.step] if 0 <= self.step < len(STEPS) else None
        return {
            "status": self.status,
            "step": self.step,
            "steps": len(STEPS),
            "caption": step.caption[self.language] if step else "",
            "who": self.world.named(step.who).id if step else None,
            "where": step.where if step else None,
            "group": self.world.groups[0].id,
            "error": self.error,
        }

    def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self.step, self.error = -1, ""
        self._resume.set()
        self._task = asyncio.create_task(self._play(), name="sandbox-tour")

    def pause(self) -> None:
        if self.status == "running":
            self._resume.clear()
            self._changed("paused")

    def resume(self) -> None:
        if self.status == "paused":
            self._resume.set()
            self._changed("running")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._changed("idle")

    async def wait(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _play(self) -> None:
        run = TourRun(self.world, self.language, self.deadline)
        try:
            for index, step in enumerate(STEPS):
                await self._resume.wait()
                self.step = index
                self._changed("running")
                await step.act(run)
                self._changed("running")
                await asyncio.sleep(self.pause_between)
            self._changed("finished")
        except asyncio.CancelledError:
            raise
        except Exception as error:  # shown on the page; the sandbox goes on
            log.exception("the tour stopped at step %s", self.step + 1)
            self.error = str(error) or type(error).__name__
            self._changed("failed")

    def _changed(self, status: str) -> None:
        self.status = status
        self.version += 1
        self.world.telegram.touch()


def _product(colour: tuple[int, int, int]) -> bytes:
    """A stand-in product photo: round things of one colour on a light table."""
    image = Image.new("RGB", (800, 600), (246, 242, 234))
    draw = ImageDraw.Draw(image)
    for row in range(3):
        for column in range(4):
            x, y = 110 + column * 150, 120 + row * 140
            shade = tuple(max(0, c - 12 * ((row + column) % 3)) for c in colour)
            draw.ellipse((x, y, x + 130, y + 110), fill=shade, outline=(120, 100, 80), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()
