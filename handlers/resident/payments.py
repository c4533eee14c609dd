"""Paying in advance: Telegram's pre-checkout question and its receipt (a successful payment).

Telegram waits at most 10 seconds for the pre-checkout answer, then fails the payment: the check
is one read, and any fault answers "no" at once rather than letting the resident wait it out.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, PreCheckoutQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.delivery.events import DeliveryLog
from bot.services.kernel.errors import PaymentRefused
from bot.services.payments import checkout
from handlers.texts import payments

log = logging.getLogger(__name__)


async def pre_checkout(
    query: PreCheckoutQuery,
    session: AsyncSession,
    now: datetime,
    settings: Settings,
    delivery_log: DeliveryLog,
) -> None:
    try:
        ok, refusal = True, ""
        await checkout.check(
            session,
            query.from_user.id,
            query.invoice_payload,
            query.currency,
            query.total_amount,
            settings.payment_currency,
            now,
        )
    except PaymentRefused as refused:
        ok, refusal = False, payments.pre_checkout_refusal(refused.reason)
    except Exception:
        log.exception("pre-checkout %s could not be checked", query.id)
        ok, refusal = False, _("Something went wrong. Please try again.")
    try:
        await query.answer(ok=ok, error_message=refusal or None)
    except TelegramAPIError as error:  # too late (10 s): Telegram failed the payment; /status
        delivery_log.note("pre_checkout", query.from_user.id, error.message)
        log.warning("pre-checkout %s not answered: %s", query.id, error.message)


async def paid(message: Message, session: AsyncSession, now: datetime, settings: Settings) -> None:
    receipt = message.successful_payment
    assert receipt is not None
    assert message.from_user is not None
    result = await checkout.record(
        session,
        message.from_user.id,
        receipt.invoice_payload,
        receipt.currency,
        receipt.total_amount,
        receipt.telegram_payment_charge_id,
        receipt.provider_payment_charge_id,
        now,
    )
    await message.answer(payments.paid(result, settings.currency))


def router() -> Router:
    """A fresh router (a router can belong to only one dispatcher)."""
    router = Router(name=__name__)
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(paid, F.successful_payment)
    return router
