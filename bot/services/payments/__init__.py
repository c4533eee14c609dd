"""Payment in advance: reservations that lapse unpaid, Telegram's checkout, refunds owed."""
