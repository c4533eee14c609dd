"""An item's details, privately: its photos as an album, its description and where it stands,
with a Join button. From the drop post's Details button, `/item n` (in the group, or privately
for the community of the resident's latest order), or a deep link `item-<id>` when the bot could
not write to the resident yet."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, InputMediaPhoto, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.formatting import plain_text, utf16_len
from bot.services.community.communities import CommunityRef
from bot.services.community.people import UserRef
from bot.services.kernel.errors import ItemNotFound
from bot.services.ordering import item_media
from bot.services.ordering.item_media import ItemDetails
from handlers.keyboards import DetailsButton, join_button, start_keyboard, start_link
from handlers.parsing import BadUsage, positive_int, words
from handlers.texts.ordering import item_details
from models import GroupBuyState

CAPTION_LIMIT = 1024
PAYLOAD = "item-"


async def details_button(
    callback: CallbackQuery,
    callback_data: DetailsButton,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    settings: Settings,
) -> None:
    details = await item_media.details(session, group_buy_id=callback_data.group_buy_id)
    if not await _privately(bot, callback.from_user.id, details, settings, now):
        # Never started the bot: the link opens the private chat and shows the details there.
        me = await bot.me()
        await callback.answer(url=start_link(me.username or "", _payload(details)))
        return
    await callback.answer(_("✉️ Sent to you privately."))


async def item_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    settings: Settings,
    user: UserRef,
    community: CommunityRef | None,
) -> None:
    args = words(command)
    number = positive_int(args[0]) if len(args) == 1 else None
    if number is None:
        raise BadUsage("/item n", _("Give the number of the item, as the drop post shows it."))
    community_id = community.id if community else await item_media.home_community(session, user.id)
    if community_id is None:
        raise BadUsage(
            "/item n",
            _("Send it in your community's group, or press Details on the drop post there."),
        )
    details = await item_media.details(session, community_id=community_id, number=number)
    if message.chat.type == "private":
        await send_details(bot, message.chat.id, details, settings, now)
        return
    if not await _privately(bot, user.id, details, settings, now):
        me = await bot.me()
        await message.reply(
            _(
                "I can't write to you privately yet: tap the button, press Start; I'll answer there."
            ),
            reply_markup=start_keyboard(me.username or "", _payload(details)),
        )
        return
    await message.reply(_("✉️ Sent to you privately."))


async def _privately(
    bot: Bot, user_id: int, details: ItemDetails, settings: Settings, now: datetime
) -> bool:
    """Send the details to the user's private chat: False if the bot may not write there yet."""
    try:
        await send_details(bot, user_id, details, settings, now)
    except TelegramForbiddenError:
        return False
    return True


def _payload(details: ItemDetails) -> str:
    """The start link's payload that shows these details (`from_link`)."""
    return f"{PAYLOAD}{details.item.group_buy_id}"


async def from_link(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    now: datetime,
    settings: Settings,
) -> None:
    """`/start item-<id>`: the Details button's link for a resident the bot could not write to."""
    digits = (command.args or "").removeprefix(PAYLOAD)
    group_buy_id = positive_int(digits) if digits.isascii() else None
    if group_buy_id is None:
        raise ItemNotFound(0)
    details = await item_media.details(session, group_buy_id=group_buy_id)
    await send_details(bot, message.chat.id, details, settings, now)


async def send_details(
    bot: Bot, chat_id: int, details: ItemDetails, settings: Settings, now: datetime
) -> None:
    """The photos (an album, or one photo carrying the text), then the text with Join."""
    text = item_details(details, settings.currency, now)
    item = details.item
    markup = None
    if item.state is GroupBuyState.OPEN:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[join_button(item.group_buy_id, item.number, item.name)]]
        )
    photos = details.photos
    if len(photos) == 1 and utf16_len(plain_text(text)) <= CAPTION_LIMIT:
        await bot.send_photo(chat_id, photos[0], caption=text, reply_markup=markup)
        return
    if len(photos) == 1:
        await bot.send_photo(chat_id, photos[0])
    elif photos:
        await bot.send_media_group(chat_id, [InputMediaPhoto(media=p) for p in photos])
    await bot.send_message(chat_id, text, reply_markup=markup)


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.callback_query.register(details_button, DetailsButton.filter())
    router.message.register(item_command, Command("item"))
    router.message.register(from_link, CommandStart(deep_link=True, magic=None), _item_link)
    return router


def _item_link(message: Message, command: CommandObject) -> bool:
    return (command.args or "").startswith(PAYLOAD)
