"""Every refusal, worded: domain errors from the services (by subdomain, in `handlers/texts/`)
and malformed commands.

`explain(error)` is what `RefusalMiddleware` replies with. Returns None for anything that is not a
refusal (a bug), which the middleware logs.
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.parsing import BadUsage, WrongPlace
from handlers.texts import after_sale, books, community, ordering, payments, pickup


def explain(error: Exception, currency: str = "¥") -> str | None:
    match error:
        case BadUsage(usage=usage, problem=problem):
            text = _("Usage: {usage}").format(usage=usage)
            return f"{problem}\n{text}" if problem else text
        case WrongPlace(command=command, needs="group"):
            return _("Use /{command} in your community's group.").format(command=command)
        case WrongPlace(command=command):
            return _("Send /{command} to me in a private chat.").format(command=command)
    return (
        ordering.refusal(error)
        or pickup.refusal(error)
        or after_sale.refusal(error)
        or books.refusal(error, currency)
        or community.refusal(error)
        or payments.refusal(error)
    )
