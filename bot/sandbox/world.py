"""The sandbox's people and groups, and setting them up through the bot as a platform would.

On a fresh start the admin adds the bot to two groups and registers them, makes the leaders
leaders and sets the pickup points, all by commands the bot answers, exactly as in Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.telegram import FakeChat, FakeTelegram, FakeUser


@dataclass(frozen=True)
class Persona:
    """Someone the page can act as: a role, and the Telegram user behind it."""

    user_id: int
    role: str  # admin | leader | resident


# Who lives in the sandbox: (first name, role, groups by index); Dan never starts the bot, so
# the page shows what happens to a resident the bot cannot write to.
CAST: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("Ada", "admin", (0, 1)),
    ("Lin", "leader", (0,)),
    ("Mei", "leader", (1,)),
    ("Alice", "resident", (0,)),
    ("Bob", "resident", (0,)),
    ("Carol", "resident", (0,)),
    ("Dan", "resident", (1,)),
)
GROUPS = ("Sunny Garden", "River Court")
POINTS = (
    "address=Gate 3 parcel room, 88 Sunny Road hours=8:00-20:00 phone=138-0000-0001 "
    "location=31.2304,121.4737",
    "address=River Court clubhouse, 6 Bund Lane hours=9:00-21:00 phone=138-0000-0002 "
    "location=31.2397,121.4900",
)
# Where a persona "is" when they share their location (near Sunny Garden's point).
HOME = (31.2310, 121.4745)


@dataclass
class World:
    telegram: FakeTelegram
    personas: dict[int, Persona]
    groups: list[FakeChat]
    leaders: dict[int, int]  # group chat id -> its leader's user id

    def save(self) -> dict[str, object]:
        """What `existing` needs besides the server's own snapshot."""
        return {
            "personas": {str(uid): p.role for uid, p in self.personas.items()},
            "groups": [g.id for g in self.groups],
            "leaders": {str(chat): user for chat, user in self.leaders.items()},
        }

    @property
    def admin(self) -> FakeUser:
        return self.by_role("admin")[0]

    def by_role(self, role: str) -> list[FakeUser]:
        return [self.telegram.users[p.user_id] for p in self.personas.values() if p.role == role]

    def named(self, name: str) -> FakeUser:
        for persona in self.personas.values():
            user = self.telegram.users[persona.user_id]
            if user.first_name == name:
                return user
        raise LookupError(name)

    def leader_of(self, group: FakeChat) -> FakeUser:
        return self.telegram.users[self.leaders[group.id]]

    def add_persona(self, name: str, role: str = "resident") -> FakeUser:
        """A new resident (or leader) who lives by the first group."""
        user = self.telegram.user(name, language_code=self.admin.language_code)
        self.personas[user.id] = Persona(user.id, role)
        self.groups[0].members.add(user.id)
        return user


def existing(telegram: FakeTelegram, saved: dict[str, Any]) -> World:
    """The world a restored snapshot holds (`saved`: what `World.save` wrote)."""
    personas = {int(uid): Persona(int(uid), role) for uid, role in saved["personas"].items()}
    groups = [telegram.chats[chat_id] for chat_id in saved["groups"]]
    leaders = {int(chat): int(user) for chat, user in saved["leaders"].items()}
    return World(telegram, personas, groups, leaders)


def people(telegram: FakeTelegram, language: str) -> World:
    """The people and their groups, before the bot is in any."""
    tg_language = "zh-hans" if language == "zh" else "en"
    users = [telegram.user(name, language_code=tg_language) for name, _, _ in CAST]
    personas = {
        user.id: Persona(user.id, role) for user, (_, role, _) in zip(users, CAST, strict=True)
    }
    groups = [
        telegram.group(
            title, [u for u, (_, _, where) in zip(users, CAST, strict=True) if index in where]
        )
        for index, title in enumerate(GROUPS)
    ]
    leaders = {
        group.id: next(
            u.id
            for u, (_, role, where) in zip(users, CAST, strict=True)
            if role == "leader" and index in where
        )
        for index, group in enumerate(groups)
    }
    return World(telegram, personas, groups, leaders)


async def set_up(world: World) -> None:
    """The bot in every group: registered, led, with its pickup point, as an admin would."""
    telegram, groups = world.telegram, world.groups
    admin = world.admin
    users = [telegram.users[uid] for uid in world.personas]
    for person in users:
        if person.first_name != "Dan":
            await telegram.start_bot(person)
    for index, group in enumerate(groups):
        await telegram.add_bot(group, admin, admin=True)
        sent = await telegram.send(admin, group, f"/register {group.title}")
        await telegram.wait_message(group, "", after=sent.message_id, timeout=30)
        leader = world.leader_of(group)
        said = await telegram.send(leader, group, "👋")
        sent = await telegram.send(admin, group, "/setleader", reply_to=said)
        await telegram.wait_message(group, "", after=sent.message_id, timeout=30)
        sent = await telegram.send(leader, group, f"/setpoint {POINTS[index]}")
        await telegram.wait_message(group, "", after=sent.message_id, timeout=30)
    await telegram.idle(timeout=30)
