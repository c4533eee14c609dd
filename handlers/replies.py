"""Answering privately: commands asked in a group whose answers are personal."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.formatting import split_message
from handlers.keyboards import start_keyboard


async def answer(
    message: Message,
    text: str,
    files: Sequence[BufferedInputFile] = (),
    chart: BufferedInputFile | None = None,
) -> None:
    """Reply where the command was sent, in as many messages as the text needs, then the files
    and the chart (a photo)."""
    for part in split_message(text):
        await message.answer(part)
    for file in files:
        await message.answer_document(file)
    if chart is not None:
        await message.answer_photo(chart)


async def answer_privately(
    message: Message,
    bot: Bot,
    text: str,
    payload: str,
    files: Sequence[BufferedInputFile] = (),
    chart: BufferedInputFile | None = None,
) -> None:
    """Send `text` (and `files`) to the user's private chat. Asked in a group, say so there; if
    the user never opened a private chat with the bot, offer the button that does (continuing
    with `payload`)."""
    if message.chat.type == "private":
        await answer(message, text, files, chart)
        return
    assert message.from_user is not None
    try:
        for part in split_message(text):
            await bot.send_message(message.from_user.id, part)
        for file in files:
            await bot.send_document(message.from_user.id, file)
        if chart is not None:
            await bot.send_photo(message.from_user.id, chart)
    except TelegramForbiddenError:
        me = await bot.me()
        text = _(
            "I can't write to you privately yet: tap the button, press Start; I'll answer there."
        )
        await message.reply(text, reply_markup=start_keyboard(me.username or "", payload))
        return
    await message.reply(_("✉️ Sent to you privately."))
