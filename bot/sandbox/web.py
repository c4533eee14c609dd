"""The sandbox's web page and the small JSON API it plays the chats through.

The page (static files in `static/`, no build step) lists the personas and their chats, shows
the bot's messages as Telegram renders them (from the text and its entities), and acts as the
persona: it sends text, presses buttons, shares a location, uploads photos, opens deep links.
It learns of every change (a message, an edit, a deletion, a button's answer) from one
server-sent event stream and reads the chat again. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sandbox.telegram import FakeChat, FakeTelegram, FakeUser, Message, bound_url
from bot.sandbox.tour import Tour
from bot.sandbox.world import HOME, World

STATIC = Path(__file__).parent / "static"
MAX_UPLOAD = 12 * 1024 * 1024  # a little over Telegram's 10 MB, so the bot's own refusal shows
_START_LINK = re.compile(r"^https://t\.me/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]{1,64})$")


class SandboxPage:
    def __init__(self, world: World, tour: Tour, on_change: Callable[[], None]) -> None:
        self.world = world
        self.tg: FakeTelegram = world.telegram
        self.tour = tour
        self.on_change = on_change  # the world changed in a way a restart should keep
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/chat/{chat_id}", self._chat)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.router.add_get("/api/document/{chat_id}/{message_id}", self._document)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/click", self._click)
        app.router.add_post("/api/photo", self._photo)
        app.router.add_post("/api/location", self._location)
        app.router.add_post("/api/start", self._start)
        app.router.add_post("/api/persona", self._persona)
        app.router.add_post("/api/language", self._language)
        app.router.add_post("/api/tour/{action}", self._tour)
        return app

    async def start(self, port: int) -> str:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        return bound_url(site)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- reading ----------------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _state(self, request: web.Request) -> web.Response:
        tg, world = self.tg, self.world
        personas = [
            {
                "id": p.user_id,
                "name": tg.users[p.user_id].first_name,
                "role": p.role,
                "started": tg.users[p.user_id].started,
                "language": tg.users[p.user_id].language_code,
                "chats": [
                    {"id": g.id, "title": g.title, "type": "group"}
                    for g in world.groups
                    if p.user_id in g.members
                ],
            }
            for p in world.personas.values()
        ]
        return web.json_response(
            {
                "bot": {"name": tg.bot.first_name, "username": tg.bot.username},
                "personas": personas,
                "commands": self._commands(),
                "tour": self.tour.state(),
                "version": tg.version,
            }
        )

    def _commands(self) -> dict[str, list[dict[str, str]]]:
        """The command menus the bot set (setMyCommands), by scope and language."""
        menus: dict[str, list[dict[str, str]]] = {}
        for key, commands in self.tg.commands.items():
            scope, _, language = key.partition("|")
            kind = json.loads(scope).get("type", "default")
            menus[f"{kind}|{language}"] = commands
        return menus

    async def _chat(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        messages = [self._message(m) for m in self.tg.history.get(chat_id, []) if not m.deleted]
        return web.json_response({"chat_id": chat_id, "messages": messages})

    def _message(self, message: Message) -> dict[str, Any]:
        data = message.as_dict()
        data["from_bot"] = message.from_bot
        data["serial"] = message.serial
        if message.document is not None:
            data["document_url"] = f"/api/document/{message.chat.id}/{message.message_id}"
        if message.photo is not None:
            data["photo_url"] = f"/api/file/{message.photo}"
        if message.reply_markup and "keyboard" in message.reply_markup:
            data["reply_keyboard"] = message.reply_markup["keyboard"]  # the input field's
        if message.reply_markup and message.reply_markup.get("remove_keyboard"):
            data["remove_keyboard"] = True
        return data

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """One `change` event each time anything happened (a message, an edit, an answer, a step
        of the tour); the page reads what it shows again."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        seen = -1
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while True:
                if self.tg.version != seen:
                    seen = self.tg.version
                    await response.write(f"event: change\ndata: {seen}\n\n".encode())
                await self.tg.changed(timeout=15)
                if self.tg.version == seen:
                    await response.write(b": keep-alive\n\n")
        return response

    async def _file(self, request: web.Request) -> web.Response:
        data = self.tg.files.get(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/jpeg")

    async def _document(self, request: web.Request) -> web.Response:
        chat_id, message_id = (int(request.match_info[k]) for k in ("chat_id", "message_id"))
        message = self._find(chat_id, message_id)
        if message.document is None:
            raise web.HTTPNotFound()
        name, data = message.document
        return web.Response(
            body=data,
            content_type="text/csv" if name.endswith(".csv") else "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- acting as a persona ----------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        user, chat = self._who(body), self._where(body)
        text = str(body.get("text") or "").strip()
        if not text or len(text) > 4096:
            raise web.HTTPBadRequest(text="a message is 1 to 4096 characters")
        reply_to = self._find(chat.id, int(body["reply_to"])) if body.get("reply_to") else None
        sent = await self.tg.send(user, chat, text, reply_to=reply_to)
        self.on_change()
        return web.json_response({"message_id": sent.message_id})

    async def _click(self, request: web.Request) -> web.Response:
        """Press an inline button: a callback's answer comes back (a toast, an alert, or a
        link to open), a link button is the page's to open."""
        body = await request.json()
        user, chat = self._who(body), self._where(body)
        message = self._find(chat.id, int(body["message_id"]))
        buttons = message.buttons
        index = int(body["button"])
        if not 0 <= index < len(buttons):
            raise web.HTTPBadRequest(text="no such button")
        button = buttons[index]
        if "url" in button:
            return web.json_response({"url": button["url"], **self._deep_link(button["url"])})
        query = await self.tg.click(user, message, button["text"])
        try:
            await self.tg.wait_for(lambda: query.answered, timeout=15)
        except TimeoutError:
            return web.json_response({"text": "", "unanswered": True})
        return web.json_response(
            {
                "text": query.answer_text or "",
                "alert": query.show_alert,
                "url": query.answer_url,
                **self._deep_link(query.answer_url or ""),
            }
        )

    def _deep_link(self, url: str) -> dict[str, Any]:
        """A t.me link to this bot with a start payload: the page opens the private chat."""
        found = _START_LINK.match(url)
        if found and found.group(1) == self.tg.bot.username:
            return {"start": found.group(2)}
        return {}

    async def _photo(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            raise web.HTTPBadRequest(text="no photo")
        fields = {k: str(v) for k, v in form.items() if not isinstance(v, web.FileField)}
        user, chat = self._who(fields), self._where(fields)
        data = upload.file.read()
        caption = fields.get("caption") or None
        if fields.get("as_file") == "1":
            sent = await self.tg.send_document(user, chat, upload.filename, data, caption)
        else:
            sent = await self.tg.send_photo(user, chat, caption, image=data)
        self.on_change()
        return web.json_response({"message_id": sent.message_id})

    async def _location(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = self._who(body)
        latitude = float(body.get("latitude", HOME[0]))
        longitude = float(body.get("longitude", HOME[1]))
        sent = await self.tg.send_location(user, user, latitude, longitude)
        return web.json_response({"message_id": sent.message_id})

    async def _start(self, request: web.Request) -> web.Response:
        """Open the private chat with the bot and press Start (a deep link's payload too)."""
        body = await request.json()
        user = self._who(body)
        payload = str(body.get("payload") or "") or None
        if payload is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload):
            raise web.HTTPBadRequest(text="a start payload is 1-64 of A-Z a-z 0-9 _ -")
        sent = await self.tg.start_bot(user, payload)
        self.on_change()
        return web.json_response({"message_id": sent.message_id})

    async def _persona(self, request: web.Request) -> web.Response:
        """Add a resident, or rename someone (as a Telegram user renames themself)."""
        body = await request.json()
        name = str(body.get("name") or "").strip()
        if not 1 <= len(name) <= 64:
            raise web.HTTPBadRequest(text="a name is 1 to 64 characters")
        if body.get("user"):
            user = self._who(body)
            user.first_name = name
        else:
            user = self.world.add_persona(name)
        self.tg.version += 1
        self.on_change()
        return web.json_response({"id": user.id})

    async def _language(self, request: web.Request) -> web.Response:
        """Everyone's Telegram language (what the bot answers privately in, unless /lang)."""
        body = await request.json()
        language = {"en": "en", "zh": "zh-hans"}.get(str(body.get("language")))
        if language is None:
            raise web.HTTPBadRequest(text="en or zh")
        for persona in self.world.personas.values():
            self.tg.users[persona.user_id].language_code = language
        self.tour.language = "zh" if language != "en" else "en"
        self.tg.version += 1
        self.on_change()
        return web.json_response({"language": language})

    async def _tour(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "start":
            self.tour.start()
        elif action == "pause":
            self.tour.pause()
        elif action == "resume":
            self.tour.resume()
        elif action == "stop":
            self.tour.stop()
        else:
            raise web.HTTPNotFound()
        return web.json_response(self.tour.state())

    # -- reading the request ----------------------------------------------------------------

    def _who(self, body: dict[str, Any]) -> FakeUser:
        try:
            user_id = int(body["user"])
        except (KeyError, TypeError, ValueError):
            raise web.HTTPBadRequest(text="which persona?") from None
        if user_id not in self.world.personas:
            raise web.HTTPBadRequest(text="no such persona")
        return self.tg.users[user_id]

    def _where(self, body: dict[str, Any]) -> FakeChat:
        user = self._who(body)
        try:
            chat = self.tg.chats[int(body["chat"])]
        except (KeyError, TypeError, ValueError):
            raise web.HTTPBadRequest(text="which chat?") from None
        if chat.type == "private" and chat.id != user.id:
            raise web.HTTPForbidden(text="that is someone else's private chat")
        if chat.type != "private" and user.id not in chat.members:
            raise web.HTTPForbidden(text="not a member of that group")
        return chat

    def _find(self, chat_id: int, message_id: int) -> Message:
        for message in self.tg.history.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise web.HTTPNotFound(text="no such message")
