"""Refunds in Telegram Stars, made through the Bot API (`refundStarPayment`) without an admin.

Runs on every tick of the timekeeper (a refund owed wakes it at once). Telegram refunds a Stars
payment whole and once: a refund asked again after a crash (made, not yet marked) is answered
CHARGE_ALREADY_REFUNDED, which is taken as done.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.kernel.clock import utcnow
from bot.services.payments import refunds

log = logging.getLogger(__name__)


class StarRefunder:
    def __init__(self, bot: Bot, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.bot = bot
        self.session_factory = session_factory

    async def run(self) -> int:
        """Refund what is due; returns how many were made."""
        async with self.session_factory() as session:
            due = await refunds.star_refunds_due(session)
        made = 0
        for refund in due:
            try:
                await self.bot.refund_star_payment(refund.user_id, refund.telegram_charge_id)
            except TelegramBadRequest as error:
                if "CHARGE_ALREADY_REFUNDED" not in error.message:
                    log.warning("stars refund %s refused: %s", refund.refund_id, error.message)
                    continue
            except TelegramAPIError as error:  # Telegram away: the next tick tries again
                log.warning("stars refund %s not made: %s", refund.refund_id, error)
                continue
            async with self.session_factory() as session:
                await refunds.star_refund_made(session, refund.refund_id, utcnow())
            made += 1
        return made
