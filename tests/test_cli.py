"""`python -m bot` as an operator runs it: clear one-line refusals, long polling, clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher
from alembic.script import ScriptDirectory

from bot.config import Settings
from bot.db import create_engine
from bot.migrate import alembic_config, upgrade_engine
from bot.polling import InboxPolling
from tests.fakegram import TOKEN, FakeTelegram, Limits

GOOD_TOKEN = "123:abcdefghijklmnopqrstuvwxyz"


async def python_m_bot(
    cwd: Path, env: dict[str, str], *args: str, timeout: float = 30
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path.cwd()), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BOT_TOKEN is required"),
        ({"BOT_TOKEN": "nonsense"}, "BOT_TOKEN must look like"),
        ({"ADMIN_IDS": "12, alice"}, "ADMIN_IDS must be comma-separated"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE is not a time zone"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must use an async driver"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL must be an http(s) URL"),
        ({"SEND_RATE_GLOBAL": "0"}, "SEND_RATE_GLOBAL"),
        ({"SEND_RATE_GROUP": "many"}, "SEND_RATE_GROUP"),
        ({"CURRENCY": ""}, "CURRENCY"),
    ],
)
async def test_bad_settings_stop_it_with_one_line(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    values = {"BOT_TOKEN": GOOD_TOKEN, **env} if env else {}
    code, out, err = await python_m_bot(tmp_path, values, "check")
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert named in lines[0]
    assert out == ""


async def test_settings_come_from_a_dotenv_file_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"BOT_TOKEN={GOOD_TOKEN}\nDATABASE_URL=sqlite+aiosqlite:///{tmp_path}/db/x.sqlite3\n"
    )
    code, out, err = await python_m_bot(tmp_path, {}, "check")
    assert (code, err) == (0, "")
    assert "settings are valid" in out and "does not exist yet" in out
    assert not (tmp_path / "db" / "x.sqlite3").exists()  # checking changes nothing


async def test_check_says_where_the_schema_stands_and_migrates_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/x.sqlite3"
    engine = create_engine(url, for_migrations=True)
    await upgrade_engine(engine, "0006")
    await engine.dispose()
    values = {"BOT_TOKEN": GOOD_TOKEN, "DATABASE_URL": url}
    code, out, err = await python_m_bot(tmp_path, values, "check")
    assert (code, err) == (0, "")
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"to apply, from 0006 to {head}" in out
    code, out, err = await python_m_bot(tmp_path, values, "check")
    assert "from 0006" in out  # still: check does not migrate
    code, out, err = await python_m_bot(tmp_path, values, "migrate")
    code, out, err = await python_m_bot(tmp_path, values, "check")
    assert (code, err) == (0, "")
    assert f"schema up to date ({head})" in out


def test_settings_parse_lists_and_defaults() -> None:
    settings = Settings(_env_file=None, bot_token=GOOD_TOKEN, admin_ids=" 12, 34 ,56")  # type: ignore[arg-type, call-arg]
    assert settings.admin_ids == frozenset({12, 34, 56})
    assert (settings.default_language, settings.timezone, settings.currency) == (
        "zh",
        "Asia/Shanghai",
        "¥",
    )
    assert (settings.send_rate_global, settings.send_rate_chat, settings.send_rate_group) == (
        30,
        1,
        20,
    )
    assert settings.database_url == "sqlite+aiosqlite:///./data/tuanbot.sqlite3"
    assert settings.telegram_api_url == "https://api.telegram.org"


async def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {"BOT_TOKEN": GOOD_TOKEN, "DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/x"}
    code, _, err = await python_m_bot(tmp_path, env)
    assert code == 2
    assert err.strip().startswith("tuanbot: cannot use DATABASE_URL")
    assert "Traceback" not in err


async def test_a_rejected_token_or_unreachable_api_is_one_line(tmp_path: Path) -> None:
    telegram = FakeTelegram()
    await telegram.start()
    try:
        env = {"BOT_TOKEN": GOOD_TOKEN, "TELEGRAM_API_URL": telegram.url}
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/a.sqlite3"
        code, _, err = await python_m_bot(tmp_path, env)
        assert code == 2
        assert "BOT_TOKEN was rejected by Telegram" in err
        assert "Traceback" not in err
    finally:
        await telegram.stop()
    env["TELEGRAM_API_URL"] = "http://127.0.0.1:1"
    code, _, err = await python_m_bot(tmp_path, env)
    assert code == 2
    assert "cannot reach TELEGRAM_API_URL" in err


async def test_it_polls_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    telegram = FakeTelegram(limits=Limits(enforced=False))
    await telegram.start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path.cwd()),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/bot.sqlite3",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await telegram.wait_for(lambda: telegram.polls > 0, timeout=30)
        user = telegram.user("Alice")
        await telegram.start_bot(user)
        welcome = await telegram.wait_message(user, "Hello, Alice", timeout=15)
        assert "/codes" in welcome.text
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
        assert process.returncode == 0
        assert (tmp_path / "data" / "bot.sqlite3").exists()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await telegram.stop()


async def test_a_stop_ends_the_pause_between_polling_retries() -> None:
    """With Telegram unreachable, polling waits longer and longer between tries (up to 30 s);
    a SIGTERM in that pause must not wait it out."""
    bot = Bot(TOKEN)
    polling = InboxPolling(bot, Dispatcher(), runner=None)  # type: ignore[arg-type]
    pause = asyncio.create_task(polling._pause(30))
    await asyncio.sleep(0.05)
    assert not pause.done()
    polling.stop()
    await asyncio.wait_for(pause, 1)  # at once, not in 30 s
    await bot.session.close()
