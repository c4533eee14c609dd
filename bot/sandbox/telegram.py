"""A local Bot API server that behaves like Telegram where it matters to tuanbot: the sandbox's
Telegram, and the end-to-end tests'.

The bot talks to it over real HTTP with aiogram's own session (`TELEGRAM_API_URL`). Tests act as
users through its control methods (`send`, `start`, `click`, …) and read what the bot did.

Like Telegram it:
- long-polls `getUpdates` and confirms updates by `offset`;
- returns complete Message objects (with entities parsed from HTML);
- validates HTML parse mode, the 4096-character text limit, 200-character callback answers,
  64-byte callback data and button URLs, reply targets, edits that change nothing;
- answers 403 to private messages for users who never started the bot or blocked it, and to groups
  the bot is not in;
- answers 429 with `retry_after` beyond its rate limits (sliding windows: 30 a second overall,
  1 a second per private chat, 20 a minute per group, all scalable so tests run in seconds);
- can inject faults (429, 5xx, 403, dropped connections, slow answers) for chosen requests;
- keeps the files users send and the bot uploads: `sendPhoto` checks an upload as Telegram does
  (an image, at most 10 MB, width + height at most 10,000, sides at most 20:1), file ids work
  only once known, `getFile` and the file download URL serve the bytes back, captions hold
  1,024 characters, albums 2–10 items.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import math
import mimetypes
import pickle
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image, UnidentifiedImageError

from bot.sandbox.html import EntityParseError, parse_html, utf16_len

TOKEN = "123456789:TEST-token-for-the-local-bot-api-server"
BOT_ID = 123456789
SENDING = {
    "sendMessage",
    "sendDocument",
    "sendPhoto",
    "sendMediaGroup",
    "copyMessage",
    "forwardMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "sendVenue",
    "sendLocation",
}


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)


_SERIALS = itertools.count(1)


class TelegramError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class Limits:
    """Sliding windows: at most `*_count` messages in any `*_window` seconds."""

    global_count: int = 30
    global_window: float = 1.0
    private_count: int = 1
    private_window: float = 1.0
    group_count: int = 20
    group_window: float = 60.0
    enforced: bool = True

    def scaled(self, factor: float) -> Limits:
        """The same counts in windows `factor` times shorter: Telegram, `factor` times faster."""
        return Limits(
            self.global_count,
            self.global_window / factor,
            self.private_count,
            self.private_window / factor,
            self.group_count,
            self.group_window / factor,
            self.enforced,
        )


class _Window:
    def __init__(self, count: int, window: float) -> None:
        self.count = count
        self.window = window
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.window:
            self.times.popleft()
        if len(self.times) < self.count:
            return 0.0
        return self.times[0] + self.window - now

    def take(self, now: float) -> None:
        self.times.append(now)


@dataclass
class Fault:
    """Make matching requests fail. `status` 'drop' closes the connection; 'slow' delays."""

    method: str | None = None
    chat_id: int | None = None
    status: int | str = 500
    times: int = 1
    retry_after: int = 1
    delay: float = 0.0
    description: str = "Internal Server Error"

    def matches(self, method: str, chat_id: int | None) -> bool:
        return (self.method is None or self.method == method) and (
            self.chat_id is None or self.chat_id == chat_id
        )


@dataclass
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False
    started: bool = False
    blocked: bool = False

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in (
            ("last_name", "username") if self.is_bot else ("last_name", "username", "language_code")
        ):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class FakeChat:
    id: int
    type: str
    title: str | None = None
    user: FakeUser | None = None  # the other side of a private chat
    members: set[int] = field(default_factory=set)
    bot_status: str = "left"  # member | administrator | left | kicked

    def as_dict(self) -> dict[str, Any]:
        if self.type == "private":
            assert self.user is not None
            data = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.username:
                data["username"] = self.user.username
            return data
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass
class Message:
    """A message in a chat, from the bot or from a user."""

    chat: FakeChat
    message_id: int
    sender: FakeUser
    text: str  # plain text, after HTML parsing
    html: str | None  # what the bot sent, if it used HTML
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    date: int
    reply_to: Message | None = None
    edits: int = 0
    deleted: bool = False
    document: tuple[str, bytes] | None = None
    caption: str | None = None
    photo: str | None = None  # the file id of a photo message
    media_group_id: str | None = None
    location: dict[str, Any] | None = None  # {"latitude", "longitude"[, "live_period"]}
    venue: dict[str, Any] | None = None  # {"location", "title", "address"}
    invoice: dict[str, Any] | None = None  # as Telegram shows it, plus "payload" (kept back)
    successful_payment: dict[str, Any] | None = None  # a user's receipt (a service message)
    serial: int = field(default_factory=lambda: next(_SERIALS))  # order across every chat

    @property
    def from_bot(self) -> bool:
        return self.sender.id == BOT_ID

    @property
    def buttons(self) -> list[dict[str, Any]]:
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    def button(self, contains: str) -> dict[str, Any]:
        for button in self.buttons:
            if contains in button["text"]:
                return button
        raise LookupError(f"no button with {contains!r} in {[b['text'] for b in self.buttons]}")

    def as_dict(self, with_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.as_dict(),
            "from": self.sender.as_dict(),
        }
        if self.document is not None:
            data["document"] = {
                "file_id": f"doc-{self.chat.id}-{self.message_id}",
                "file_unique_id": f"u{self.message_id}",
                "file_name": self.document[0],
                "mime_type": mimetypes.guess_type(self.document[0])[0]
                or "application/octet-stream",
                "file_size": len(self.document[1]),
            }
            if self.caption:
                data["caption"] = self.caption
        elif self.invoice is not None:
            data["invoice"] = {k: v for k, v in self.invoice.items() if k != "payload"}
        elif self.successful_payment is not None:
            data["successful_payment"] = self.successful_payment
        elif self.venue is not None:
            data["venue"] = self.venue
            data["location"] = self.venue["location"]
        elif self.location is not None:
            data["location"] = self.location
        elif self.photo is not None:
            data["photo"] = [  # sizes, smallest first, as Telegram sends them
                {
                    "file_id": f"{self.photo}-s",
                    "file_unique_id": f"{self.photo}-s",
                    "width": 90,
                    "height": 90,
                },
                {"file_id": self.photo, "file_unique_id": self.photo, "width": 1280, "height": 960},
            ]
            if self.caption:
                data["caption"] = self.caption
            if self.media_group_id:
                data["media_group_id"] = self.media_group_id
        else:
            data["text"] = self.text
        if self.entities:
            plain = self.document is None and self.photo is None
            data["entities" if plain else "caption_entities"] = self.entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram returns only an inline keyboard with a message; a reply keyboard
            # belongs to the chat's input field, not to the message.
            data["reply_markup"] = self.reply_markup
        if self.edits:
            data["edit_date"] = self.date + self.edits
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.as_dict(with_reply=False)
        return data


@dataclass
class CallbackQuery:
    id: str
    user: FakeUser
    message: Message
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    answer_url: str | None = None


@dataclass
class PreCheckout:
    """A resident pressed Pay: Telegram asks the bot, and waits `PRE_CHECKOUT_SECONDS`."""

    id: str
    user: FakeUser
    invoice: Message
    asked_at: float
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None


PRE_CHECKOUT_SECONDS = 10.0  # Telegram's: unanswered by then, the payment fails
CURRENCIES = frozenset(
    {"CNY", "HKD", "TWD", "USD", "EUR", "GBP", "JPY", "SGD", "RUB", "INR", "BRL", "XTR"}
)


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    status: int
    at: float
    description: str | None = None


class FakeTelegram:
    def __init__(
        self,
        *,
        token: str = TOKEN,
        bot_username: str = "tuan_test_bot",
        limits: Limits | None = None,
    ) -> None:
        self.token = token
        self.bot = FakeUser(BOT_ID, "Tuan Bot", username=bot_username, is_bot=True)
        self.limits = limits or Limits()
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.history: dict[int, list[Message]] = {}
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0  # the highest update_id the bot confirmed with `offset`
        self.polls = 0  # getUpdates calls so far
        self._replays: list[dict[str, Any]] = []
        self.callbacks: dict[str, CallbackQuery] = {}
        self.pre_checkouts: dict[str, PreCheckout] = {}
        self.charges = 0  # successful payments made
        self.star_refunds: list[tuple[int, str]] = []  # (user, charge id) refunded in Stars
        # Every file a user sent or the bot uploaded, by file id: the bot may send them on by id
        # and download them (`getFile`).
        self.files: dict[str, bytes] = {}
        self.requests: list[Request] = []
        self.faults: list[Fault] = []
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.invite_links: dict[str, dict[str, Any]] = {}  # link -> chat_id, name, flags
        self.join_requests: dict[tuple[int, int], str] = {}  # (chat, user) -> pending|approved
        self.pinned: dict[int, int] = {}  # chat -> pinned message id
        self.version = 0  # counts every change a watcher (the sandbox's page) may want to see
        self.uploads = 0  # photos the bot uploaded (not sent by file id)
        self.downloads = 0  # files the bot downloaded
        self._ids = itertools.count(10_001)
        self._group_ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._windows: dict[tuple[str, int], _Window] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.url = ""
        # Webhook mode: where updates are posted (several targets: a load balancer's spread).
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_targets: list[str] = []
        self.delivered: set[int] = set()  # update ids a webhook answered 200 for
        self.webhook_posts = 0
        self._webhook_queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._webhook_tasks: list[asyncio.Task[None]] = []

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._http)
        app.router.add_get("/bot{token}/{method}", self._http)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.url = bound_url(site)
        return self.url

    async def stop(self) -> None:
        for task in self._webhook_tasks:
            task.cancel()
        await asyncio.gather(*self._webhook_tasks, return_exceptions=True)
        self._closing = True  # long polls return at once instead of holding the shutdown
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- watching (the sandbox's page) -------------------------------------------------------

    def touch(self) -> None:
        """Something a watcher should see changed outside the Bot API (e.g. the tour moved on)."""
        self.version += 1
        asyncio.get_running_loop().create_task(self._notify())

    async def changed(self, timeout: float) -> None:
        """Wait until anything changes, or `timeout` seconds."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- keeping the world between runs (the sandbox) ---------------------------------------

    def snapshot(self) -> bytes:
        """Everyone, every chat and message, every file: what `restore` brings back."""
        state = {
            "users": self.users,
            "chats": self.chats,
            "history": self.history,
            "files": self.files,
            "commands": self.commands,
            "invite_links": self.invite_links,
            "join_requests": self.join_requests,
            "pinned": self.pinned,
            "next_update": self._peek(self._update_ids),
            "next_user": self._peek(self._ids),
            "next_group": self._peek(self._group_ids),
            "uploads": self.uploads,
        }
        return pickle.dumps(state)

    def restore(self, data: bytes) -> None:
        global _SERIALS
        state = pickle.loads(data)  # our own file, written by `snapshot`
        self.users, self.chats, self.history = state["users"], state["chats"], state["history"]
        self.files, self.commands = state["files"], state["commands"]
        self.invite_links, self.join_requests = state["invite_links"], state["join_requests"]
        self.pinned, self.uploads = state["pinned"], state["uploads"]
        # Update ids go on from where they were: the bot's inbox has seen the earlier ones.
        self._update_ids = itertools.count(state["next_update"])
        self._ids = itertools.count(state["next_user"])
        self._group_ids = itertools.count(state["next_group"])
        for chat_id, messages in self.history.items():
            last = max((m.message_id for m in messages), default=0)
            self._message_ids[chat_id] = itertools.count(last + 1)
        serials = [m.serial for messages in self.history.values() for m in messages]
        _SERIALS = itertools.count(max(serials, default=0) + 1)

    @staticmethod
    def _peek(counter: itertools.count[int]) -> int:
        """A counter's next value, taken and not lost (the counter is replaced on restore)."""
        return next(counter)

    # -- the tests' side: people and what they do -----------------------------------------

    def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        user = FakeUser(next(self._ids), first_name, last_name, username, language_code)
        self.users[user.id] = user
        self.chats[user.id] = FakeChat(user.id, "private", user=user, bot_status="member")
        return user

    def group(self, title: str, members: Sequence[FakeUser] = ()) -> FakeChat:
        chat_id = -1_000_000_000_000 - next(self._group_ids)
        chat = FakeChat(chat_id, "supergroup", title=title, members={m.id for m in members})
        self.chats[chat_id] = chat
        return chat

    async def add_bot(self, chat: FakeChat, by: FakeUser, admin: bool = False) -> None:
        old = chat.bot_status
        chat.bot_status = "administrator" if admin else "member"
        chat.members.add(by.id)
        await self._push(
            {
                "my_chat_member": {
                    "chat": chat.as_dict(),
                    "from": by.as_dict(),
                    "date": int(time.time()),
                    "old_chat_member": {"status": old, "user": self.bot.as_dict()},
                    "new_chat_member": self._member(chat.bot_status, self.bot),
                }
            }
        )

    async def remove_bot(self, chat: FakeChat, by: FakeUser) -> None:
        old = chat.bot_status
        chat.bot_status = "kicked"
        await self._push(
            {
                "my_chat_member": {
                    "chat": chat.as_dict(),
                    "from": by.as_dict(),
                    "date": int(time.time()),
                    "old_chat_member": self._member(old, self.bot),
                    "new_chat_member": {
                        "status": "kicked",
                        "user": self.bot.as_dict(),
                        "until_date": 0,
                    },
                }
            }
        )

    async def send(
        self, user: FakeUser, chat: FakeChat | FakeUser, text: str, reply_to: Message | None = None
    ) -> Message:
        """`user` writes `text` in `chat` (a group, or the user themself for the private chat)."""
        return await self._from_user(user, chat, text, reply_to=reply_to)

    async def send_photo(
        self,
        user: FakeUser,
        chat: FakeChat | FakeUser,
        caption: str | None = None,
        *,
        image: bytes | None = None,
        reply_to: Message | None = None,
        media_group_id: str | None = None,
    ) -> Message:
        """`user` sends a photo (a new file id; `image`, or a small picture) in `chat`."""
        message_id = self._next_message_id(chat.id)
        file_id = f"photo-{chat.id}-{message_id}"
        self.files[file_id] = image if image is not None else sample_image()
        return await self._from_user(
            user,
            chat,
            caption or "",
            message_id=message_id,
            photo=file_id,
            caption=caption,
            reply_to=reply_to,
            media_group_id=media_group_id,
        )

    async def send_document(
        self,
        user: FakeUser,
        chat: FakeChat | FakeUser,
        name: str,
        data: bytes,
        caption: str | None = None,
    ) -> Message:
        """`user` sends a file (as a document, uncompressed) in `chat`."""
        message_id = self._next_message_id(chat.id)
        self.files[f"doc-{chat.id}-{message_id}"] = data
        return await self._from_user(
            user, chat, caption or "", message_id=message_id, document=(name, data), caption=caption
        )

    async def send_location(
        self,
        user: FakeUser,
        chat: FakeChat | FakeUser,
        latitude: float,
        longitude: float,
        *,
        live_period: int | None = None,
        venue: tuple[str, str] | None = None,
    ) -> Message:
        """`user` shares a location pin (or a live location, or a venue: title and address)."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period:
            location["live_period"] = live_period
        return await self._from_user(
            user,
            chat,
            "",
            location=None if venue else location,
            venue={"location": location, "title": venue[0], "address": venue[1]} if venue else None,
        )

    async def _from_user(
        self,
        user: FakeUser,
        chat: FakeChat | FakeUser,
        text: str,
        message_id: int | None = None,
        **fields: Any,
    ) -> Message:
        """A message `user` sends (its text, or a caption), delivered to the bot as an update."""
        target = self.chats[chat.id]
        if target.type != "private":
            target.members.add(user.id)
        else:
            user.started = True  # writing to a bot opens the private chat, as in Telegram
        entities = []
        if match := re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text):
            entities.append(
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}
            )
        message = Message(
            chat=target,
            message_id=message_id or self._next_message_id(target.id),
            sender=user,
            text=text,
            html=None,
            entities=entities,
            reply_markup=None,
            date=int(time.time()),
            **fields,
        )
        self.history.setdefault(target.id, []).append(message)
        await self._push({"message": message.as_dict()})
        return message

    async def request_join(self, user: FakeUser, invite_link: str) -> None:
        """`user` opens an invite link that asks to join: the bot gets a chat_join_request."""
        link = self.invite_links.get(invite_link)
        if link is None or not link.get("creates_join_request"):
            raise LookupError(f"no join-request link {invite_link!r}")
        chat = self.chats[link["chat_id"]]
        self.join_requests[(chat.id, user.id)] = "pending"
        await self._push(
            {
                "chat_join_request": {
                    "chat": chat.as_dict(),
                    "from": user.as_dict(),
                    "user_chat_id": user.id,
                    "date": int(time.time()),
                    "invite_link": self._invite_dict(invite_link),
                }
            }
        )

    async def start_bot(self, user: FakeUser, payload: str | None = None) -> Message:
        """The user opens the private chat and presses Start (optionally from a deep link)."""
        user.started = True
        user.blocked = False
        return await self.send(user, user, "/start" + (f" {payload}" if payload else ""))

    async def click(self, user: FakeUser, message: Message, button_text: str) -> CallbackQuery:
        button = message.button(button_text)
        if "callback_data" not in button:
            raise LookupError(f"button {button['text']!r} is not a callback button")
        query = CallbackQuery(str(next(self._callback_ids)), user, message, button["callback_data"])
        self.callbacks[query.id] = query
        await self._push(
            {
                "callback_query": {
                    "id": query.id,
                    "from": user.as_dict(),
                    "message": message.as_dict(),
                    "chat_instance": str(message.chat.id),
                    "data": query.data,
                }
            }
        )
        return query

    async def pay(
        self, user: FakeUser, invoice: Message, *, currency: str | None = None
    ) -> Message | str:
        """`user` pays `invoice`: the bot is asked (pre-checkout) and has 10 seconds to say yes.
        Returns the receipt message the bot then gets, or why the payment did not go through
        (the bot's error message, or "expired"). `currency` forges the query's currency."""
        if invoice.invoice is None:
            raise LookupError("not an invoice")
        query = PreCheckout(str(next(self._callback_ids)), user, invoice, asked_at=time.monotonic())
        self.pre_checkouts[query.id] = query
        await self._push(
            {
                "pre_checkout_query": {
                    "id": query.id,
                    "from": user.as_dict(),
                    "currency": currency or invoice.invoice["currency"],
                    "total_amount": invoice.invoice["total_amount"],
                    "invoice_payload": invoice.invoice["payload"],
                }
            }
        )
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda: query.answered, PRE_CHECKOUT_SECONDS)
        if not query.answered:
            return "expired"
        if not query.ok:
            return query.error_message or ""
        return await self.receipt(user, invoice)

    async def receipt(self, user: FakeUser, invoice: Message, charge: str | None = None) -> Message:
        """The service message that tells the bot a payment went through (Telegram sends it
        again, with the same charge id, if the bot did not take it)."""
        assert invoice.invoice is not None
        self.charges += 1
        charge = charge or f"tg-charge-{self.charges}"
        stars = invoice.invoice["currency"] == "XTR"
        return await self._from_user(
            user,
            user,
            "",
            successful_payment={
                "currency": invoice.invoice["currency"],
                "total_amount": invoice.invoice["total_amount"],
                "invoice_payload": invoice.invoice["payload"],
                "telegram_payment_charge_id": charge,
                "provider_payment_charge_id": "" if stars else f"provider-{charge}",
            },
        )

    def invoices(self, user: FakeUser) -> list[Message]:
        return [m for m in self.sent(user) if m.invoice is not None]

    async def deliver(self, update: dict[str, Any]) -> int:
        """An update as a newer Bot API might send it, in a shape the bot's library may not
        know; returns its update_id."""
        await self._push(update)
        return int(self.updates[-1]["update_id"])

    async def redeliver(self, *updates: int) -> None:
        """Send already confirmed updates again, as Telegram does when a bot's acknowledgement
        got lost (a crash, a timed-out webhook)."""
        self._replays += [u for u in self.updates if u["update_id"] in set(updates)]
        async with self._changed:
            self._changed.notify_all()

    def update_of(self, message: Message) -> int:
        """The update_id that carried a user's message."""
        for update in self.updates:
            carried = update.get("message") or {}
            if (
                carried.get("message_id") == message.message_id
                and carried.get("chat", {}).get("id") == message.chat.id
            ):
                return int(update["update_id"])
        raise LookupError("no update carried that message")

    def block(self, user: FakeUser) -> None:
        user.blocked = True

    # -- the tests' side: what the bot did ----------------------------------------------------

    def sent(self, chat: FakeChat | FakeUser | int) -> list[Message]:
        chat_id = chat if isinstance(chat, int) else chat.id
        return [m for m in self.history.get(chat_id, []) if m.from_bot and not m.deleted]

    def group_texts(self) -> list[str]:
        """Everything the bot ever wrote in any group, edits' final versions included."""
        return [
            m.text + " " + json.dumps(m.reply_markup or {})
            for chat in self.chats.values()
            if chat.type != "private"
            for m in self.history.get(chat.id, [])
            if m.from_bot
        ]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `check()` returns something truthy; return it."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the bot did not do what the test waited for")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._changed.wait()

    async def wait_message(
        self,
        chat: FakeChat | FakeUser | int,
        contains: str | tuple[str, ...] = "",
        timeout: float = 10.0,
        after: int = 0,
    ) -> Message:
        """The first bot message in `chat` (with message_id > `after`) containing all `contains`."""
        parts = (contains,) if isinstance(contains, str) else contains

        def find() -> Message | None:
            for message in self.sent(chat):
                if message.message_id > after and all(p in message.text for p in parts):
                    return message
            return None

        try:
            return await self.wait_for(find, timeout)  # type: ignore[no-any-return]
        except TimeoutError:
            seen = [m.text for m in self.sent(chat)]
            raise AssertionError(f"no message with {parts!r}; the bot wrote: {seen}") from None

    async def wait_answer(self, query: CallbackQuery, timeout: float = 10.0) -> str:
        await self.wait_for(lambda: query.answered, timeout)
        return query.answer_text or ""

    async def idle(self, quiet: float = 0.3, timeout: float = 15.0) -> None:
        """Wait until every update was fetched and the bot made no request for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.requests[-1].at if self.requests else 0.0
            if self.webhook_url:
                fetched = all(u["update_id"] in self.delivered for u in self.updates)
            else:
                fetched = not self.updates or self.confirmed >= self.updates[-1]["update_id"]
            if fetched and time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(quiet / 3)
        raise TimeoutError("the bot never went quiet")

    def count(self, method: str, status: int | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if r.method == method and (status is None or r.status == status)
        )

    # -- the bot's side: HTTP ---------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        chat_id = _int_or_none(params.get("chat_id"))
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, chat_id) and fault.status == "drop":
                fault.times -= 1
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
        status, body = await self.handle(method, params)
        return web.json_response(body, status=status)

    async def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """One Bot API call: (HTTP status, JSON body). Used over HTTP and in-process."""
        chat_id = _int_or_none(params.get("chat_id"))
        for fault in self.faults:
            if fault.times > 0 and fault.matches(method, chat_id) and fault.status != "drop":
                fault.times -= 1
                if fault.status == "slow":
                    async with self._changed:  # a test may wait for the request to be on the wire
                        self._changed.notify_all()
                    await asyncio.sleep(fault.delay)
                    break
                assert isinstance(fault.status, int)
                error = TelegramError(
                    fault.status,
                    fault.description if fault.status != 429 else "Too Many Requests",
                    fault.retry_after if fault.status == 429 else None,
                )
                return await self._fail(method, params, error)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return await self._fail(
                method, params, TelegramError(404, "Not Found: method not found")
            )
        try:
            if method in SENDING:
                self._check_rate(chat_id)
            result = await handler(params)
        except TelegramError as error:
            return await self._fail(method, params, error)
        await self._log(Request(method, params, 200, time.monotonic()))
        return 200, {"ok": True, "result": result}

    async def _fail(
        self, method: str, params: dict[str, Any], error: TelegramError
    ) -> tuple[int, dict[str, Any]]:
        await self._log(Request(method, params, error.status, time.monotonic(), error.description))
        return error.status, error.body()

    async def _log(self, entry: Request) -> None:
        if entry.method != "getUpdates" or entry.status != 200:
            self.requests.append(entry)
            self.version += 1
        async with self._changed:
            self._changed.notify_all()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = (value.filename, value.file.read())
            else:
                params[key] = form_value(str(value))
        # Uploads go as their own form fields, named by an "attach://<field>" value (Bot API).
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.get(value.removeprefix("attach://"), value)
        return params

    def _check_rate(self, chat_id: int | None) -> None:
        if not self.limits.enforced:
            return
        now = time.monotonic()
        scopes = [("global", 0, self.limits.global_count, self.limits.global_window)]
        if chat_id is not None:
            if chat_id > 0:
                scopes.append(
                    ("chat", chat_id, self.limits.private_count, self.limits.private_window)
                )
            else:
                scopes.append(("chat", chat_id, self.limits.group_count, self.limits.group_window))
        windows = []
        for kind, key, count, span in scopes:
            window = self._windows.setdefault((kind, key), _Window(count, span))
            wait = window.wait(now)
            if wait > 0:
                raise TelegramError(
                    429,
                    f"Too Many Requests: retry after {max(1, math.ceil(wait))}",
                    max(1, math.ceil(wait)),
                )
            windows.append(window)
        for window in windows:
            window.take(now)

    # -- Bot API methods ----------------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot.as_dict(), "can_join_groups": True, "can_read_all_group_messages": False}

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise TelegramError(
                409, "Conflict: can't use getUpdates method while webhook is active"
            )
        self.polls += 1
        async with self._changed:
            self._changed.notify_all()
        offset = _int_or_none(params.get("offset")) or 0
        limit = _int_or_none(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        if offset:
            self.confirmed = max(self.confirmed, offset - 1)
            async with self._changed:
                self._changed.notify_all()
        deadline = time.monotonic() + timeout
        while True:
            pending = [u for u in self.updates if u["update_id"] >= offset]
            if self._replays:
                pending, self._replays = self._replays + pending, []
            if pending or time.monotonic() >= deadline or self._closing:
                return pending[:limit]
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                        await self._changed.wait()

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = self.webhook_secret = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not re.match(r"^https?://", url):
            raise TelegramError(400, "Bad Request: bad webhook: an HTTPS URL must be provided")
        self.webhook_url, self.webhook_secret = url, params.get("secret_token")
        if not self._webhook_tasks:
            # Telegram keeps up to 40 connections open to a webhook.
            self._webhook_tasks = [asyncio.create_task(self._deliver_webhooks()) for _ in range(40)]
            for update in self.updates:  # what polling had not confirmed goes by webhook now
                if update["update_id"] > self.confirmed:
                    self._webhook_queue.put_nowait(update)
        return True

    def balance(self, *targets: str) -> None:
        """Post webhook updates to these URLs in turn (a load balancer before instances)."""
        self.webhook_targets = list(targets)

    async def _deliver_webhooks(self) -> None:
        """Post each update until some target answers 200; retry (elsewhere) otherwise."""
        turn = itertools.count()
        async with aiohttp.ClientSession() as http:
            while True:
                update = await self._webhook_queue.get()
                targets = self.webhook_targets or [self.webhook_url or ""]
                target = targets[next(turn) % len(targets)]
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
                self.webhook_posts += 1
                try:
                    async with asyncio.timeout(10):
                        async with http.post(target, json=update, headers=headers) as response:
                            ok = response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    self.delivered.add(update["update_id"])
                    async with self._changed:
                        self._changed.notify_all()
                else:
                    await asyncio.sleep(0.2)
                    self._webhook_queue.put_nowait(update)

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands or len(commands) > 100:
            raise TelegramError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise TelegramError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
        self.commands[f"{scope}|{params.get('language_code', '')}"] = commands
        return True

    async def _m_getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        user_id = _int_or_none(params.get("user_id"))
        if user_id == BOT_ID:
            return self._member(chat.bot_status, self.bot)
        user = self.users.get(user_id or 0)
        if user is None:
            raise TelegramError(400, "Bad Request: user not found")
        return self._member("member" if user.id in chat.members else "left", user)

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        text, entities = self._text(params, "text", 4096)
        markup = self._markup(params)
        reply_to = self._reply_target(chat, params)
        message = Message(
            chat=chat,
            message_id=self._next_message_id(chat.id),
            sender=self.bot,
            text=text,
            html=params["text"] if params.get("parse_mode") == "HTML" else None,
            entities=entities,
            reply_markup=markup,
            date=int(time.time()),
            reply_to=reply_to,
        )
        self.history.setdefault(chat.id, []).append(message)
        return message.as_dict()

    async def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        document = params.get("document")
        if not isinstance(document, tuple):
            raise TelegramError(400, "Bad Request: there is no document in the request")
        return self._captioned(chat, params, self._markup(params), document=document).as_dict()

    def _captioned(
        self, chat: FakeChat, params: dict[str, Any], markup: dict[str, Any] | None, **media: Any
    ) -> Message:
        """A media message from the bot, its optional caption checked like a text."""
        caption: str = ""
        entities: list[dict[str, Any]] = []
        if params.get("caption"):
            caption, entities = self._text(params, "caption", 1024)
        message = Message(
            chat=chat,
            message_id=self._next_message_id(chat.id),
            sender=self.bot,
            text=caption,
            html=params.get("caption"),
            entities=entities,
            reply_markup=markup,
            date=int(time.time()),
            caption=caption or None,
            **media,
        )
        self.history.setdefault(chat.id, []).append(message)
        return message

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        file_id = self._photo(params.get("photo"))
        return self._captioned(chat, params, self._markup(params), photo=file_id).as_dict()

    def _photo(self, photo: Any) -> str:
        """A photo to send: a known file id, or an upload checked as Telegram checks it."""
        if isinstance(photo, str):
            if photo not in self.files:
                raise TelegramError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return photo
        if not isinstance(photo, tuple):
            raise TelegramError(400, "Bad Request: there is no photo in the request")
        data = photo[1]
        if len(data) > 10 * 1024 * 1024:
            raise TelegramError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            raise TelegramError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
        if width + height > 10_000 or max(width, height) > 20 * min(width, height):
            raise TelegramError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        self.uploads += 1
        file_id = f"upload-{self.uploads}"
        self.files[file_id] = data
        return file_id

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise TelegramError(400, "Bad Request: invalid file_id")
        size = len(self.files[file_id])
        if size > 20 * 1024 * 1024:
            raise TelegramError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": file_id,
            "file_size": size,
            "file_path": f"files/{file_id}",
        }

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        data = self.files.get(path.removeprefix("files/"))
        if data is None:
            return web.Response(status=404)
        self.downloads += 1
        return web.Response(body=data)

    async def _m_editMessageCaption(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(params)
        if message.photo is None and message.document is None:
            raise TelegramError(400, "Bad Request: there is no caption in the message to edit")
        caption: str = ""
        entities: list[dict[str, Any]] = []
        if params.get("caption"):
            caption, entities = self._text(params, "caption", 1024)
        markup = self._markup(params)
        if (
            caption == message.text
            and entities == message.entities
            and markup == message.reply_markup
        ):
            raise TelegramError(400, "Bad Request: message is not modified")
        message.text, message.caption, message.entities = caption, caption or None, entities
        message.html = params.get("caption")
        message.reply_markup = markup
        message.edits += 1
        return message.as_dict()

    async def _m_sendMediaGroup(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Photos by file id (albums of what users sent, or of the bot's uploads)."""
        chat = self._writable_chat(params)
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise TelegramError(400, "Bad Request: media group must have 2-10 items")
        group = f"mg-{chat.id}-{len(self.history.get(chat.id, []))}"
        sent = []
        for item in media:
            if item.get("type") != "photo" or item.get("media") not in self.files:
                raise TelegramError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            message = self._captioned(chat, item, None, photo=item["media"], media_group_id=group)
            sent.append(message.as_dict())
        return sent

    async def _m_sendVenue(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        latitude, longitude = (
            _coordinate(params, "latitude", 90),
            _coordinate(params, "longitude", 180),
        )
        title, address = str(params.get("title") or ""), str(params.get("address") or "")
        if not title or not address:
            raise TelegramError(400, "Bad Request: venue title and address must be non-empty")
        if len(title) > 256 or len(address) > 256:
            raise TelegramError(400, "Bad Request: venue title or address is too long")
        message = Message(
            chat=chat,
            message_id=self._next_message_id(chat.id),
            sender=self.bot,
            text="",
            html=None,
            entities=[],
            reply_markup=self._markup(params),
            date=int(time.time()),
            venue={
                "location": {"latitude": latitude, "longitude": longitude},
                "title": title,
                "address": address,
            },
        )
        self.history.setdefault(chat.id, []).append(message)
        return message.as_dict()

    async def _m_sendInvoice(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(params)
        title, description = str(params.get("title") or ""), str(params.get("description") or "")
        payload, currency = str(params.get("payload") or ""), str(params.get("currency") or "")
        if not 1 <= len(title) <= 32:
            raise TelegramError(400, "Bad Request: TITLE_INVALID")
        if not 1 <= len(description) <= 255:
            raise TelegramError(400, "Bad Request: DESCRIPTION_INVALID")
        if not 1 <= len(payload.encode()) <= 128:
            raise TelegramError(400, "Bad Request: PAYLOAD_INVALID")
        if currency not in CURRENCIES:
            raise TelegramError(400, "Bad Request: CURRENCY_INVALID")
        token = str(params.get("provider_token") or "")
        if (currency == "XTR") == bool(token):
            raise TelegramError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
        prices = params.get("prices")
        if isinstance(prices, str):
            prices = json.loads(prices)
        if not isinstance(prices, list) or not prices:
            raise TelegramError(400, "Bad Request: prices must be non-empty")
        if currency == "XTR" and len(prices) != 1:
            raise TelegramError(400, "Bad Request: STARS_INVOICE_INVALID")
        total = 0
        for price in prices:
            label, amount = price.get("label"), price.get("amount")
            if not label or not isinstance(amount, int):
                raise TelegramError(400, "Bad Request: LABELED_PRICE_INVALID")
            total += amount
        if total <= 0:
            raise TelegramError(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID")
        message = Message(
            chat=chat,
            message_id=self._next_message_id(chat.id),
            sender=self.bot,
            text=f"{title}\n{description}",
            html=None,
            entities=[],
            reply_markup=self._markup(params),
            date=int(time.time()),
            invoice={
                "title": title,
                "description": description,
                "start_parameter": str(params.get("start_parameter") or ""),
                "currency": currency,
                "total_amount": total,
                "payload": payload,
            },
        )
        self.history.setdefault(chat.id, []).append(message)
        return message.as_dict()

    async def _m_answerPreCheckoutQuery(self, params: dict[str, Any]) -> bool:
        query = self.pre_checkouts.get(str(params.get("pre_checkout_query_id")))
        late = query is not None and time.monotonic() - query.asked_at > PRE_CHECKOUT_SECONDS
        if query is None or query.answered or late:
            raise TelegramError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        ok = params.get("ok") in (True, "true", "True")
        error = params.get("error_message")
        if not ok and not error:
            raise TelegramError(400, "Bad Request: ERROR_MESSAGE_EMPTY")
        query.answered, query.ok, query.error_message = True, ok, error
        async with self._changed:
            self._changed.notify_all()
        return True

    async def _m_refundStarPayment(self, params: dict[str, Any]) -> bool:
        user_id = _int_or_none(params.get("user_id"))
        charge = str(params.get("telegram_payment_charge_id") or "")
        paid = [
            m
            for m in self.history.get(user_id or 0, [])
            if m.successful_payment is not None
            and m.successful_payment["telegram_payment_charge_id"] == charge
            and m.sender.id == user_id
        ]
        if not paid or paid[0].successful_payment["currency"] != "XTR":  # type: ignore[index]
            raise TelegramError(400, "Bad Request: CHARGE_NOT_FOUND")
        if (user_id, charge) in self.star_refunds:
            raise TelegramError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
        self.star_refunds.append((user_id, charge))  # type: ignore[arg-type]
        return True

    async def _m_createChatInviteLink(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        if chat.type == "private":
            raise TelegramError(400, "Bad Request: chat not found")
        if chat.bot_status != "administrator":
            raise TelegramError(400, "Bad Request: not enough rights to manage chat invite link")
        name = params.get("name")
        if name is not None and len(str(name)) > 32:
            raise TelegramError(400, "Bad Request: invite link name is too long")
        joins = params.get("creates_join_request", False)
        if joins is True and params.get("member_limit"):
            raise TelegramError(
                400, "Bad Request: member limit can't be specified with join requests"
            )
        link = f"https://t.me/+fake{len(self.invite_links) + 1:04d}{abs(chat.id) % 10_000:04d}"
        self.invite_links[link] = {
            "chat_id": chat.id,
            "name": name,
            "creates_join_request": joins is True,
        }
        return self._invite_dict(link)

    def _invite_dict(self, link: str) -> dict[str, Any]:
        info = self.invite_links[link]
        data: dict[str, Any] = {
            "invite_link": link,
            "creator": self.bot.as_dict(),
            "creates_join_request": info["creates_join_request"],
            "is_primary": False,
            "is_revoked": False,
        }
        if info["name"]:
            data["name"] = info["name"]
        return data

    async def _m_approveChatJoinRequest(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        user_id = _int_or_none(params.get("user_id")) or 0
        if chat.bot_status != "administrator":
            raise TelegramError(400, "Bad Request: not enough rights")
        if self.join_requests.get((chat.id, user_id)) != "pending":
            raise TelegramError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        self.join_requests[(chat.id, user_id)] = "approved"
        chat.members.add(user_id)
        return True

    async def _m_pinChatMessage(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        if chat.type != "private" and chat.bot_status != "administrator":
            raise TelegramError(400, "Bad Request: not enough rights to pin a message")
        self.pinned[chat.id] = _int_or_none(params.get("message_id")) or 0
        return True

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(params)
        text, entities = self._text(params, "text", 4096)
        markup = self._markup(params)
        if text == message.text and entities == message.entities and markup == message.reply_markup:
            raise TelegramError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.text, message.entities, message.reply_markup = text, entities, markup
        message.html = params["text"] if params.get("parse_mode") == "HTML" else None
        message.edits += 1
        return message.as_dict()

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._own_message(params)
        markup = self._markup(params)
        if markup == message.reply_markup:
            raise TelegramError(400, "Bad Request: message is not modified")
        message.reply_markup = markup
        message.edits += 1
        return message.as_dict()

    async def _m_deleteMessage(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params)
        message_id = _int_or_none(params.get("message_id"))
        for message in self.history.get(chat.id, []):
            if message.message_id == message_id and not message.deleted:
                if not message.from_bot and chat.bot_status != "administrator":
                    raise TelegramError(400, "Bad Request: message can't be deleted")
                message.deleted = True
                return True
        raise TelegramError(400, "Bad Request: message to delete not found")

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query = self.callbacks.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise TelegramError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        url = params.get("url")
        if url is not None and not str(url).startswith(("https://t.me/", "t.me/")):
            raise TelegramError(400, "Bad Request: URL_INVALID")
        query.answered, query.answer_text, query.answer_url = True, text, url
        query.show_alert = params.get("show_alert") is True
        return True

    # -- validation helpers -------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> FakeChat:
        chat = self.chats.get(_int_or_none(params.get("chat_id")) or 0)
        if chat is None:
            raise TelegramError(400, "Bad Request: chat not found")
        return chat

    def _writable_chat(self, params: dict[str, Any]) -> FakeChat:
        chat = self._chat(params)
        if chat.type == "private":
            assert chat.user is not None
            if chat.user.blocked:
                raise TelegramError(403, "Forbidden: bot was blocked by the user")
            if not chat.user.started:
                raise TelegramError(403, "Forbidden: bot can't initiate conversation with a user")
        elif chat.bot_status == "kicked":
            raise TelegramError(403, "Forbidden: bot was kicked from the supergroup chat")
        elif chat.bot_status == "left":
            raise TelegramError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _own_message(self, params: dict[str, Any]) -> Message:
        chat = self._chat(params)
        message_id = _int_or_none(params.get("message_id"))
        for message in self.history.get(chat.id, []):
            if message.message_id == message_id and not message.deleted:
                if not message.from_bot:
                    raise TelegramError(400, "Bad Request: message can't be edited")
                return message
        raise TelegramError(400, "Bad Request: message to edit not found")

    def _text(
        self, params: dict[str, Any], key: str, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(key)
        if not isinstance(raw, str) or not raw:
            raise TelegramError(400, f"Bad Request: message {key} is empty")
        mode = params.get("parse_mode")
        if mode not in (None, "", "HTML"):
            raise TelegramError(400, f"Bad Request: unsupported parse_mode {mode!r} in this server")
        if mode == "HTML":
            try:
                text, entities = parse_html(raw)
            except EntityParseError as error:
                raise TelegramError(400, str(error)) from None
        else:
            text, entities = raw, []
        if not text.strip():
            raise TelegramError(400, f"Bad Request: message {key} is empty")
        if utf16_len(text) > limit:
            what = "message caption" if key == "caption" else "message"
            raise TelegramError(400, f"Bad Request: {what} is too long")
        return text, entities

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("keyboard", []):  # a reply keyboard: text, optionally a request
            for key in row:
                asks = [k for k in ("request_location", "request_contact") if key.get(k)]
                if not key.get("text") or len(asks) > 1:
                    raise TelegramError(400, "Bad Request: keyboard button is invalid")
        buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
        if len(buttons) > 100:
            raise TelegramError(400, "Bad Request: reply markup is too long")
        for button in buttons:
            if not button.get("text"):
                raise TelegramError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            kinds = [k for k in ("callback_data", "url", "switch_inline_query") if k in button]
            if len(kinds) != 1:
                raise TelegramError(400, "Bad Request: BUTTON_TYPE_INVALID")
            if "callback_data" in button and not 1 <= len(button["callback_data"].encode()) <= 64:
                raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", button["url"]):
                raise TelegramError(400, "Bad Request: BUTTON_URL_INVALID")
        return markup

    def _reply_target(self, chat: FakeChat, params: dict[str, Any]) -> Message | None:
        reply = params.get("reply_parameters")
        message_id = _int_or_none(params.get("reply_to_message_id"))
        allow = False
        if isinstance(reply, dict):
            message_id = _int_or_none(reply.get("message_id"))
            allow = bool(reply.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        for message in self.history.get(chat.id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        if allow:
            return None
        raise TelegramError(400, "Bad Request: message to be replied not found")

    def _member(self, status: str, user: FakeUser) -> dict[str, Any]:
        member: dict[str, Any] = {"status": status, "user": user.as_dict()}
        if status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, True))
            member.update(can_be_edited=False, is_anonymous=False)
        if status == "kicked":
            member["until_date"] = 0
        return member

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    async def _push(self, update: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), **update}
        self.updates.append(update)
        self.version += 1
        if self.webhook_url:
            self._webhook_queue.put_nowait(update)
        async with self._changed:
            self._changed.notify_all()


def bound_url(site: web.TCPSite) -> str:
    """Where a started local site listens (its port was 0: whatever was free)."""
    server = site._server
    assert isinstance(server, asyncio.Server)
    return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


def sample_image(
    colour: tuple[int, int, int] = (120, 160, 90), size: tuple[int, int] = (64, 48)
) -> bytes:
    """A small JPEG, for photos a test does not care about."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def form_value(text: str) -> Any:
    """A form field as Telegram reads it: JSON objects, arrays and booleans are decoded."""
    if text[:1] in "[{" or text in ("true", "false"):
        with contextlib.suppress(ValueError):
            return json.loads(text)
    return text


def _coordinate(params: dict[str, Any], key: str, limit: float) -> float:
    try:
        value = float(params.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TelegramError(400, f"Bad Request: wrong {key} specified") from None
    if not -limit <= value <= limit:
        raise TelegramError(400, f"Bad Request: wrong {key} specified")
    return value


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
