"""The process's heap, settled once the bot is up: fewer and shorter garbage collections.

After startup the process holds about 1.5 million objects that live as long as it does (aiogram's
types, SQLAlchemy's mappers, the catalogs, the routers). Python's cycle collector walks all of
them in every full collection, about 0.3 s on a slow two-core machine, and with the default
thresholds a 300-press rush also triggers a young collection every 700 new objects: in all
about 0.4 s of the rush went to collections (bench/rush.py, collections timed in the bot).

So once the bot is up, what exists then is frozen (`gc.freeze`: never walked again, never freed;
it is needed until the process ends anyway), and young collections wait for 10,000 new objects
instead of 700. Garbage made while handling updates is collected as before, only in fewer passes;
the memory between passes is a few MB (bench/close.py measures RSS under load).

One thing made on demand must be held for good first: aiogram reads every answer from Telegram
as `Response[<the method's result type>]`, a class pydantic builds when first asked and caches
only weakly. Held by nothing else, it was freed by the next young collection and built again
for the next answer: a few ms each time, about 2 % of the bot's CPU in a rush (py-spy).
"""

from __future__ import annotations

import gc
import logging
from typing import Any

log = logging.getLogger(__name__)

YOUNG_THRESHOLD = 10_000  # new objects between young collections (Python's default: 700)
_held: list[Any] = []  # what must not be freed and built again


def _hold_response_types() -> None:
    from aiogram.methods.base import Response, TelegramMethod

    methods: list[type[Any]] = [TelegramMethod]
    for method in methods:  # every method class, aiogram's and the bot's own (it grows)
        methods.extend(method.__subclasses__())
        if isinstance(vars(method).get("__api_method__"), str):  # a method one can call
            _held.append(Response[method.__returning__])  # type: ignore[name-defined]


def settle() -> None:
    """Collect what startup left over, then freeze what remains. Call once, when the bot is up,
    in the bot's own process only (a test process that froze each app would never free them)."""
    _hold_response_types()
    gc.collect()
    gc.freeze()
    _, *older = gc.get_threshold()  # the older generations' thresholds stay as they are
    gc.set_threshold(YOUNG_THRESHOLD, *older)
    log.info("heap settled: %d objects frozen", gc.get_freeze_count())
