"""SQLite's write turn: first come, first served, except that storing updates goes first."""

from __future__ import annotations

import asyncio

from bot.services.kernel.uow import WriteTurn


async def test_an_urgent_unit_goes_before_those_waiting_and_none_is_lost() -> None:
    turn = WriteTurn()
    order: list[str] = []
    release = asyncio.Event()

    async def unit(name: str, urgent: bool = False) -> None:
        async with turn(urgent):
            order.append(name)
            if name == "holder":
                await release.wait()

    holder = asyncio.create_task(unit("holder"))
    await asyncio.sleep(0)
    waiting = [asyncio.create_task(unit(f"join {n}")) for n in range(3)]
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(unit("gone"))
    await asyncio.sleep(0)
    store = asyncio.create_task(unit("store", urgent=True))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await asyncio.gather(holder, *waiting, store, return_exceptions=True)
    assert order == ["holder", "store", "join 0", "join 1", "join 2"]
    async with turn():  # free again: taken at once
        order.append("after")
    assert order[-1] == "after"


async def test_a_unit_cancelled_as_it_is_handed_the_turn_hands_it_on() -> None:
    turn = WriteTurn()
    done: list[str] = []
    first = asyncio.Event()

    async def holder() -> None:
        async with turn():
            await first.wait()
        # The turn was just handed to `doomed`, which has not run yet: it is cancelled now.
        doomed.cancel()

    async def unit(name: str) -> None:
        async with turn():
            done.append(name)

    held = asyncio.create_task(holder())
    await asyncio.sleep(0)
    doomed = asyncio.create_task(unit("doomed"))
    after = asyncio.create_task(unit("after"))
    await asyncio.sleep(0)
    first.set()
    await held
    await asyncio.wait_for(after, 1)
    assert doomed.cancelled()
    assert done == ["after"]
