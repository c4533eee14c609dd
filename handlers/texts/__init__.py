"""Words, by subdomain, as `bot/services/` is grouped: what each reply, notice and refusal says.

- `common`    items and prices as every message shows them
- `ordering`  drops, posts, joins, closing, nudges, shortages
- `pickup`    the pickup point, codes, "ready", reminders, orders and their states
- `after_sale` cancellation and return requests, and their decisions
- `books`     commission rates, ledger entries, payouts
- `community` communities, roles, broadcasts, delivery alerts

Each module also words its subdomain's refusals (`refusal(error)`, see `handlers/refusals.py`).
"""
