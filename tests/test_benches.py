"""The benchmarks still run and still check what they count, on a small load.

The figures themselves are not asserted (they belong to the benchmark's reader); what is checked
is that each script finishes, prints its last line in the documented form, and that the counts
that are facts rather than speeds (joins stored, messages lost or repeated) are right. The
benchmarks import the bot's internals, so a change there can break them silently otherwise.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.databases import BACKEND, TEST_DATABASE_URL, _pg_admin
from tests.test_shared_budget import REDIS_URL, redis_or_skip

ROOT = Path(__file__).resolve().parents[1]
NUMBER = r"(\d+(?:\.\d+)?)"


async def output_of(script: str, *args: str) -> list[str]:
    """The lines a benchmark prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / script),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    # A guard against a hang, not a measurement: the small loads below take seconds.
    output, _ = await asyncio.wait_for(process.communicate(), timeout=300)
    text = output.decode()
    assert process.returncode == 0, text[-3000:]
    return text.strip().splitlines()


async def last_line(script: str, *args: str) -> str:
    return (await output_of(script, *args))[-1]


async def test_join_burst_prints_its_figures() -> None:
    line = await last_line("join_burst.py", "--joins", "60", "--communities", "3", "--rounds", "1")
    found = re.fullmatch(
        rf"join_burst: {NUMBER} joins/s end-to-end, {NUMBER} raw SQL joins/s, ratio {NUMBER}", line
    )
    assert found, line
    end_to_end, raw, ratio = (float(group) for group in found.groups())
    assert end_to_end > 0 and raw > 0
    assert ratio == pytest.approx(end_to_end / raw, abs=0.01)


async def test_send_rate_loses_and_repeats_nothing() -> None:
    line = await last_line("send_rate.py", "--buyers", "60", "--communities", "3")
    found = re.fullmatch(
        rf"send_rate: {NUMBER} msgs/s, {NUMBER}% of limit, (\d+) 429s, (\d+) lost, "
        rf"(\d+) duplicates",
        line,
    )
    assert found, line
    assert float(found.group(1)) > 0
    assert (found.group(4), found.group(5)) == ("0", "0")  # lost, duplicates


@pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="bench/scale.py needs PostgreSQL: set TEST_DATABASE_URL=postgresql+asyncpg://…",
)
async def test_scale_runs_one_and_three_instances() -> None:
    await redis_or_skip()
    database = make_url(TEST_DATABASE_URL).set(database="tuanbot_bench_smoke")
    try:
        line = await last_line(
            "scale.py",
            "--buyers",
            "60",
            "--communities",
            "3",
            "--database",
            database.render_as_string(hide_password=False),
            "--redis",
            REDIS_URL,
        )
    finally:
        await _pg_admin(
            make_url(TEST_DATABASE_URL),
            'DROP DATABASE IF EXISTS "tuanbot_bench_smoke" WITH (FORCE)',
        )
    found = re.fullmatch(
        rf"scale: 1 instance {NUMBER} joins/s, {NUMBER} msgs/s; "
        rf"3 instances {NUMBER} joins/s, {NUMBER} msgs/s \((\d+) 429s\)",
        line,
    )
    assert found, line
    assert all(float(figure) > 0 for figure in found.groups()[:4])


async def test_rush_sells_no_more_than_the_stock_and_confirms_everyone() -> None:
    lines = await output_of("rush.py", "--presses", "60", "--typed", "4", "--unstarted", "2")
    line = lines[-1]
    found = re.fullmatch(
        rf"rush: 60 presses p50 {NUMBER} s p99 {NUMBER} s; 4 typed joins -> (\d+) group "
        rf"messages, all confirmed in {NUMBER} s; /today answered in {NUMBER} s",
        line,
    )
    assert found, line
    assert "60 presses on item 1 (stock 50): 50 joined, 0 429s" in lines  # never oversold
    assert int(found.group(3)) <= 2  # only those it cannot write to, and together
    cpu = [
        re.fullmatch(rf"bot CPU until the last answer: ({NUMBER}) s in {NUMBER} s", x)
        for x in lines
    ]
    assert any(cpu), lines  # the figure that says whether the burst was CPU-bound


async def test_prepaid_rush_answers_every_pre_checkout() -> None:
    line = await last_line("prepaid_rush.py", "--presses", "40", "--payers", "8")
    found = re.fullmatch(
        rf"prepaid_rush: 40 presses p99 {NUMBER} s; 8 pre-checkouts p50 {NUMBER} s "
        rf"p99 {NUMBER} s max {NUMBER} s, (\d+) answered ok, (\d+) paid members",
        line,
    )
    assert found, line
    assert (found.group(5), found.group(6)) == ("8", "8")  # every reservation held and was paid
    assert float(found.group(4)) < 10  # within Telegram's deadline, or the payment failed


async def test_close_codes_every_buyer() -> None:
    lines = await output_of(
        "close.py",
        "--communities", "2", "--items-per-community", "3", "--orders", "3",
        "--history", "40", "--lead", "12",
    )  # fmt: skip
    found = re.fullmatch(
        rf"close: 6 items x 3 orders closed and queued in {NUMBER} s; "
        rf"RSS idle {NUMBER} MB, {NUMBER} MB with 40 orders",
        lines[-1],
    )
    assert found, lines[-1]
    assert "6 items, 18 open orders (18 coded); 40 in all" in lines


async def test_near_finds_points_round_the_residents() -> None:
    lines = await output_of("near.py", "--points", "3000", "--queries", "200")
    found = re.fullmatch(
        rf"near: 3000 points, 200 queries p50 {NUMBER} ms p99 {NUMBER} ms max {NUMBER} ms "
        rf"\({NUMBER} found within 2.0 km on average\)",
        lines[-1],
    )
    assert found, lines[-1]
    p50, p99, most, average = (float(group) for group in found.groups())
    assert 0 < p50 <= p99 <= most
    assert average > 0  # residents in a city's middle do find points round them
    assert re.fullmatch(
        r"\d+ of 200 searches found none within 2.0 km \(then the nearest\)", lines[-2]
    )


async def test_pictures_draws_both() -> None:
    line = await last_line("pictures.py", "--items", "4", "--runs", "2")
    found = re.fullmatch(
        rf"pictures: drop picture \(4 items\) p50 {NUMBER} ms max {NUMBER} ms, {NUMBER} KB; "
        rf"chart p50 {NUMBER} ms max {NUMBER} ms, first {NUMBER} ms \(with matplotlib's import\)",
        line,
    )
    assert found, line
    p50, most, size, chart, chart_most, _first = (float(group) for group in found.groups())
    assert 0 < p50 <= most and 0 < chart <= chart_most
    assert size > 10  # four photo tiles: a real picture, not an empty canvas
