"""Both languages: groups speak their community's language, private chats their user's."""

from __future__ import annotations

import re

from tests.e2e.story import Story


async def test_the_core_loop_in_chinese(chinese: Story) -> None:
    story, tg = chinese, chinese.tg
    await story.open_chinese_community()
    await story.ask(story.leader, "/setpoint 3号门快递站 8:00-20:00", "自提点")
    for person in (story.alice, story.bob, story.leader):
        welcome = await story.start(person)
        assert "你好" in welcome.text

    post = await story.post("/drop deadline=+1h min=2\n鸡蛋 | 12.5 | 盒\n牛奶 | 8")
    assert "社区团购" in post.text
    assert "#1 鸡蛋" in post.text
    assert "¥12.50 / 盒" in post.text
    assert "参团 #1" in post.buttons[0]["text"]

    joined = await story.typed(story.alice, "/join 1", "第 1 位参团")
    assert "1/2 人" in joined.text
    answer = await tg.wait_answer(await tg.click(story.bob, post, "#1"))
    assert "第 2 位" in answer
    refusal = await story.typed(story.bob, "/join 9", "没有 #9 号商品")
    assert "/today" in refusal.text

    await story.ask(story.leader, "/close 1", "已成团")
    await tg.wait_message(story.group, "已截团")
    code_message = await tg.wait_message(story.alice, "🔑 你的提货码")
    code = re.search(r"\d{7}", code_message.text).group()  # type: ignore[union-attr]
    await story.ask(story.leader, "/arrived", "已到货")
    ready = await tg.wait_message(story.alice, "你的商品已到货")
    assert "3号门快递站" in ready.text
    handed = await story.privately(story.leader, f"/pickup {code}", "请交给")
    assert "Alice" in handed.text

    # Alice prefers English for her private chats; the group stays Chinese.
    await story.privately(story.alice, "/lang en", "I will speak English")
    mine = await story.privately(story.alice, "/mine", "Your orders")
    assert "picked up" in mine.text
    assert "阳光花园" in mine.text
    group_today = await story.ask(story.bob, "/today", "在团商品")
    assert "#2 牛奶" in group_today.text


async def test_group_language_is_set_by_its_leader(story: Story) -> None:
    await story.open_community()
    refused = await story.ask(story.alice, "/lang zh", "Only this community's leader")
    assert refused
    switched = await story.ask(story.leader, "/lang zh", "简体中文")
    assert "Sunny Garden" in switched.text
    await story.ask(story.alice, "/today", "目前没有在团商品")
    await story.ask(story.alice, "/lang fr", "用法")
    # A resident's own language is separate: English in private (Telegram says "en").
    await story.start(story.alice)
    help_text = await story.privately(story.alice, "/help", "Here, privately")
    assert "/codes" in help_text.text
