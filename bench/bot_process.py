"""What the benchmarks that run the bot as its own process (`python -m bot`) share."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.fakegram import TOKEN

ROOT = Path(__file__).resolve().parents[1]


def bot_env(telegram_url: str, database_url: str, admin_id: int, **settings: str) -> dict[str, str]:
    """The bot's whole environment: the local server, the database, one admin, English, and any
    further settings (e.g. SEND_RATE_GLOBAL); nothing inherited but PATH."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram_url,
        "DATABASE_URL": database_url,
        "ADMIN_IDS": str(admin_id),
        "DEFAULT_LANGUAGE": "en",
        **settings,
    }


def rss_mb(pid: int) -> float:
    """The process's resident set size, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far (user and system, all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_for(url: str | None, workdir: str, name: str) -> str:
    """The bench's database: `url` (a PostgreSQL one is dropped and created again, so the run
    starts empty), else a fresh SQLite file in `workdir`."""
    if url is None:
        return f"sqlite+aiosqlite:///{Path(workdir) / name}"
    if make_url(url).get_backend_name() == "postgresql":
        from bench.scale import fresh_database  # asyncpg, only when asked for

        asyncio.run(fresh_database(url))
    return url


def show_crash(stderr: bytes) -> None:
    """The end of the bot's error output, when it crashed."""
    if b"Traceback" in stderr:
        print("bot stderr (last lines):", *stderr.decode().strip().splitlines()[-5:], sep="\n  ")
