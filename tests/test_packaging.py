"""The installed package runs on its own: built as a wheel, installed into a fresh environment, and
started from an empty folder (as a systemd unit or a container would), it finds its catalogs and
migrations and answers in both languages."""

from __future__ import annotations

import asyncio
import os
import signal
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.fakegram import TOKEN, FakeTelegram, Limits

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the built wheel installed; its python."""
    root = tmp_path_factory.mktemp("packaging")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", REPOSITORY],
        check=True,
        capture_output=True,
    )
    (wheel,) = (root / "dist").glob("tuanbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "locales/zh/LC_MESSAGES/messages.po" in names
    assert any(name.startswith("models/migrations/versions/0001_") for name in names)
    # The sandbox's page ships with it (no build step, no CDN).
    assert {"bot/sandbox/static/index.html", "bot/sandbox/static/app.js"} <= set(names)
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True)
    (packages,) = env.glob("lib/python*/site-packages")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", packages, wheel],
        check=True,
        capture_output=True,
    )
    # The dependencies (not tuanbot) come from the test environment: a path, not a site dir,
    # so its editable finder for the source tree is not loaded.
    (packages / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")
    return env / "bin" / "python"


def environment(folder: Path, **values: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), **values}


def test_the_wheel_checks_its_catalogs_from_an_empty_folder(
    installed: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [installed, "-c", "import bot, locales; print(bot.__file__); print(locales.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(REPOSITORY) not in done.stdout  # the installed copy, not the source tree
    url = f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3"
    env = environment(tmp_path, BOT_TOKEN=TOKEN, DATABASE_URL=url)
    migrated = subprocess.run(
        [installed, "-m", "bot", "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    checked = subprocess.run(
        [installed, "-m", "bot", "check"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    assert "schema up to date" in checked.stdout


async def test_the_installed_bot_answers_in_chinese_from_an_empty_folder(
    installed: Path, tmp_path: Path
) -> None:
    telegram = FakeTelegram(limits=Limits(enforced=False))
    await telegram.start()
    env = environment(
        tmp_path,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=telegram.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/data/bot.sqlite3",
        DEFAULT_LANGUAGE="zh",
    )
    process = await asyncio.create_subprocess_exec(
        installed,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await telegram.wait_for(lambda: telegram.polls > 0, timeout=60)
        user = telegram.user("小明", language_code="zh-hans")
        await telegram.start_bot(user)
        welcome = await telegram.wait_message(user, "小明", timeout=20)
        assert "/codes" in welcome.text and "提货码" in welcome.text
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await telegram.stop()
