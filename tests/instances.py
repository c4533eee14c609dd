"""Running the bot as its own process (`python -m bot`), as an operator would: for the crash and
several-instance tests and the benchmarks."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp

from tests.fakegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_env(
    telegram: FakeTelegram, database_url: str, admin_id: int, speed: float, **extra: str
) -> dict[str, str]:
    """The settings of a bot process against `telegram`, with its limits `speed` times faster."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "DATABASE_URL": database_url,
        "ADMIN_IDS": str(admin_id),
        "DEFAULT_LANGUAGE": "en",
        "SEND_RATE_GLOBAL": str(30 * speed),
        "SEND_RATE_CHAT": str(1 * speed),
        "SEND_RATE_GROUP": str(20 * speed),
        **extra,
    }


async def start_webhook_instance(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    """Start an instance in webhook mode on `port`; return once it answers /healthz.

    Its log goes to `$TUANBOT_TEST_LOGS/instance-<port>.log` when that folder is set (to see what
    an instance did in a failed run), and nowhere otherwise."""
    logs = os.environ.get("TUANBOT_TEST_LOGS")
    log_file = (
        await asyncio.to_thread(open, Path(logs) / f"instance-{port}.log", "wb") if logs else None
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env={**env, "WEBHOOK_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log_file or asyncio.subprocess.DEVNULL,
    )
    if log_file is not None:
        log_file.close()  # the child has its own copy of the descriptor
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return process
            except aiohttp.ClientError:
                pass
            if process.returncode is not None:
                raise RuntimeError(f"the instance on port {port} exited with {process.returncode}")
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the instance on port {port} did not start")
