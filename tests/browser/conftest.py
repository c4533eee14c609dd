"""The sandbox in a real browser: Debian's Chromium driven by Playwright, headless.

Skipped, with the reason, where Playwright or Chromium is not installed (`.ci/run` installs
both). Screenshots go to `artifacts/sandbox/` (not committed).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.run import Options, Sandbox

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "sandbox"

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright is not installed (pip install playwright)"
)
if shutil.which(CHROMIUM) is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium (apt-get install chromium)", allow_module_level=True
    )


class Running:
    """A sandbox serving its page, with a handle to stop it."""

    def __init__(self, sandbox: Sandbox, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
        self.sandbox = sandbox
        self.stop = stop
        self.task = task

    @property
    def url(self) -> str:
        return self.sandbox.url


async def start_sandbox(data: Path, **options: Any) -> Running:
    sandbox = Sandbox(Options(data=data, port=0, browser=False, **options))
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(sandbox.run(ready, stop))
    waiting = asyncio.create_task(ready.wait())
    await asyncio.wait([task, waiting], timeout=90, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # it failed to start: say why
    assert ready.is_set(), "the sandbox did not come up in 90 s"
    return Running(sandbox, stop, task)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Running]:
    running = await start_sandbox(tmp_path, tour_deadline="+8s", tour_pause=0.6)
    yield running
    running.stop.set()
    await asyncio.wait_for(running.task, 60)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Any, sandbox: Running) -> AsyncIterator[Any]:
    """The sandbox's page, with every console error and page error collected in `.errors`."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 860}, accept_downloads=True
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.goto(sandbox.url)
    await page.wait_for_selector("#personas li")
    yield page
    await context.close()


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
