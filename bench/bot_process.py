"""What the benchmarks that run the bot as its own process (`python -m bot`) share."""

from __future__ import annotations

import os
import re
from pathlib import Path

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
