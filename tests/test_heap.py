"""The settled heap keeps what pydantic would otherwise build again and again (bot/heap.py)."""

from __future__ import annotations

import gc
import weakref

from aiogram.methods.base import Response
from aiogram.types import Message

import bot.polling  # the bot's own method class, to be held as well
from bot import heap


def test_response_types_are_built_once_and_held() -> None:
    # The weak cache that made them come and go: a type nothing holds is freed at a collection.
    passing = weakref.ref(Response[frozenset[complex]])
    gc.collect()
    assert passing() is None

    heap._hold_response_types()
    answers = [weakref.ref(Response[bool]), weakref.ref(Response[Message | bool])]
    own = weakref.ref(Response[bot.polling.GetUpdatesAsSent.__returning__])  # type: ignore[name-defined]
    gc.collect()
    assert all(answer() is not None for answer in answers)
    assert own() is not None
