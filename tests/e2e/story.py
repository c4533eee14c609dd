"""A cast and their moves, so end-to-end tests read like a day in a community."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tests.fakegram import FakeChat, FakeTelegram, FakeUser, Message

if TYPE_CHECKING:
    from bot.app import TuanBot


# The group's closing notice ("⏰ Closed" on a line of its own), not the drop post, whose edit
# reads "⏰ Closed 18:00 · …" and may reach the group first.
CLOSED = "Closed\n"


class Story:
    def __init__(self, telegram: FakeTelegram) -> None:
        self.tg = telegram
        self.admin = telegram.user("Ada", username="ada_ops", language_code="en")
        self.leader = telegram.user("Lin", last_name="Wei", username="lin_leader")
        self.residents = [
            telegram.user(name, language_code="en")
            for name in ("Alice", "Bob", "Carol", "Dan", "Erin", "Frank")
        ]
        self.group = telegram.group("Sunny Garden", [self.admin, self.leader, *self.residents])
        self.app: TuanBot | None = None
        self.runner: Any = None

    @property
    def alice(self) -> FakeUser:
        return self.residents[0]

    @property
    def bob(self) -> FakeUser:
        return self.residents[1]

    @property
    def carol(self) -> FakeUser:
        return self.residents[2]

    async def ask(
        self,
        user: FakeUser,
        text: str,
        *expected: str,
        chat: FakeChat | FakeUser | None = None,
        timeout: float = 10.0,
    ) -> Message:
        """`user` writes `text` (in the group unless `chat` is given); the bot's next message in
        that chat containing every `expected` part is returned."""
        where = chat or self.group
        sent = await self.tg.send(user, where, text)
        return await self.tg.wait_message(where, expected, timeout=timeout, after=sent.message_id)

    async def typed(
        self, user: FakeUser, text: str, *expected: str, timeout: float = 10.0
    ) -> Message:
        """`user` types a command in the group that is answered to them alone (a /join, a
        /cancel, a refusal): privately if they started the bot, else in the group. The first
        bot message after it, in either chat, containing every `expected` part is returned."""
        sent = await self.tg.send(user, self.group, text)
        return await self.told(user, sent, *expected, timeout=timeout)

    async def told(
        self, user: FakeUser, sent: Message, *expected: str, timeout: float = 10.0
    ) -> Message:
        """The answer to `user`'s message `sent` in the group, privately or in the group."""

        def answer() -> Message | None:
            for chat in (user, self.group):
                for message in self.tg.sent(chat):
                    if message.serial > sent.serial and all(p in message.text for p in expected):
                        return message
            return None

        try:
            return await self.tg.wait_for(answer, timeout)  # type: ignore[no-any-return]
        except TimeoutError:
            seen = [m.text for m in [*self.tg.sent(user), *self.tg.sent(self.group)]]
            raise AssertionError(f"no answer with {expected!r}; the bot wrote: {seen}") from None

    async def privately(self, user: FakeUser, text: str, *expected: str) -> Message:
        return await self.ask(user, text, *expected, chat=user)

    async def start(self, user: FakeUser, payload: str | None = None) -> Message:
        sent = await self.tg.start_bot(user, payload)
        return await self.tg.wait_message(user, "", after=sent.message_id)

    async def open_community(self, name: str = "Sunny Garden", point: str | None = None) -> None:
        """Add the bot, register the group, make Lin the leader, set the pickup point."""
        await self.tg.add_bot(self.group, self.admin)
        await self.tg.wait_message(self.group, "/register")
        await self.ask(self.admin, f"/register {name}", "community")
        lin_said = await self.tg.send(self.leader, self.group, "I can run the pickup point!")
        sent = await self.tg.send(self.admin, self.group, "/setleader", reply_to=lin_said)
        await self.tg.wait_message(self.group, "leader", after=sent.message_id)
        if point is not None:
            await self.ask(self.leader, f"/setpoint {point}", "Pickup point")

    async def open_chinese_community(self) -> None:
        """The same as `open_community`, in a bot whose default language is Chinese."""
        await self.tg.add_bot(self.group, self.admin)
        await self.tg.wait_message(self.group, "社区团购")
        await self.ask(self.admin, "/register 阳光花园", "已注册为社区")
        said = await self.tg.send(self.leader, self.group, "我来当团长")
        await self.tg.send(self.admin, self.group, "/setleader", reply_to=said)
        await self.tg.wait_message(self.group, "现在是")

    async def draft(self, text: str) -> int:
        preview = await self.privately(self.admin, text, "Draft drop")  # the admin reads English
        match = re.search(r"Draft drop (\d+)", preview.text)
        assert match, preview.text
        return int(match.group(1))

    async def post(self, text: str, chat: FakeChat | None = None, timeout: float = 10.0) -> Message:
        """Draft and publish a drop now; return its post in the group."""
        drop_id = await self.draft(text)
        where = chat or self.group
        before = max((m.message_id for m in self.tg.sent(where)), default=0)
        await self.tg.send(self.admin, self.admin, f"/publish {drop_id}")
        return await self.tg.wait_for(  # type: ignore[no-any-return]
            lambda: next(
                (m for m in self.tg.sent(where) if m.message_id > before and m.buttons), None
            ),
            timeout,
        )

    async def buy_and_pick_up(self, user: FakeUser, drop: str, *joins: str) -> None:
        """Post `drop` (a short deadline), `user` sends each of `joins` ("/join 1 2"), the items
        close, the leader confirms arrival and hands the goods over against the user's code."""
        await self.post(drop)
        for join in joins:
            await self.typed(user, join, "No.")
        coded = await self.tg.wait_message(user, "Your pickup code", timeout=10)
        code = re.search(r"\b\d{7}\b", coded.text)
        assert code, coded.text
        await self.tg.wait_message(self.group, CLOSED)
        await self.ask(self.leader, "/arrived", "Arrived")
        await self.privately(self.leader, f"/pickup {code.group()}", user.first_name)
