"""near: how long `/near` takes to find the pickup points round a resident among many.

`--points` pickup points (default 100,000) are written straight into a fresh database (SQLite
by default, or `--database`, e.g. PostgreSQL), clustered round 60 cities of China the way
community points are: dense in the middle, thinning out. Then `--queries` searches (default
2,000), as `/near` runs them (`nearby.search`, its SQL on the indexed latitude and longitude and
the exact distance after), from residents' locations: most near a city's middle, where points
are within the radius, and `--remote` of them (default 20%) anywhere in the country's box,
where usually none is and the search widens to find the three nearest. Each is timed from the
call to its answer.

`--no-index` drops the latitude/longitude index first: what the query costs as a full scan.

The last line is:
    near: <points> points, <queries> queries p50 <a> ms p99 <b> ms max <c> ms (<n> found within
          <r> km on average)
(on one line).

Usage: python bench/near.py [--points 100000] [--queries 2000] [--remote 0.2] [--no-index]
                            [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.scale import fresh_database
from bot.db import create_engine, create_session_factory
from bot.migrate import upgrade
from bot.services.community import nearby
from bot.services.pickup.point import Location
from models import Community

CHINA = (20.0, 45.0, 100.0, 125.0)  # south, north, west, east
CITIES = 60
RADIUS_KM = 2.0


def cities(rng: random.Random) -> list[tuple[Location, float]]:
    """City middles with their spread (degrees): a few big ones, many smaller."""
    south, north, west, east = CHINA
    return [
        (Location(rng.uniform(south, north), rng.uniform(west, east)), rng.uniform(0.05, 0.3))
        for _ in range(CITIES)
    ]


def spots(rng: random.Random, count: int, towns: list[tuple[Location, float]]) -> list[Location]:
    weights = [spread**2 for _, spread in towns]  # bigger cities hold more points
    chosen = rng.choices(towns, weights, k=count)
    return [
        Location(rng.gauss(town.lat, spread), rng.gauss(town.lon, spread))
        for town, spread in chosen
    ]


async def fill(url: str, points: list[Location]) -> None:
    engine = create_engine(url)
    now = datetime.now(UTC)
    rows = [
        {
            "chat_id": -2_000_000_000 - n,
            "name": f"Point {n}",
            "language": "zh",
            "timezone": "Asia/Shanghai",
            "active": True,
            "registered_by": 1,
            "created_at": now,
            "point_address": f"{n} Road",
            "point_hours": "8:00-20:00",
            "point_lat": spot.lat,
            "point_lon": spot.lon,
        }
        for n, spot in enumerate(points)
    ]
    async with engine.begin() as connection:
        for start in range(0, len(rows), 5_000):
            await connection.execute(insert(Community), rows[start : start + 5_000])
    # As the database would be in use: statistics gathered (and on PostgreSQL, vacuumed, so
    # that a query can read the index alone).
    async with engine.connect() as connection:
        vacuum = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(vacuum))
    await engine.dispose()


async def measure(url: str, centers: list[Location]) -> tuple[list[float], list[int]]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    times, found = [], []
    async with sessions() as session:
        for center in centers[:50]:  # warm the caches and the connection first
            await nearby.search(session, center, RADIUS_KM)
        for center in centers:
            started = time.perf_counter()
            result = await nearby.search(session, center, RADIUS_KM)
            times.append(time.perf_counter() - started)
            found.append(len(result.within))
    await engine.dispose()
    return times, found


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(17)
    towns = cities(rng)
    points = spots(rng, args.points, towns)
    remote = int(args.queries * args.remote)
    south, north, west, east = CHINA
    centers = [
        Location(rng.gauss(town.lat, spread / 4), rng.gauss(town.lon, spread / 4))
        for town, spread in rng.choices(towns, k=args.queries - remote)
    ] + [Location(rng.uniform(south, north), rng.uniform(west, east)) for _ in range(remote)]
    rng.shuffle(centers)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite+aiosqlite:///{folder}/near.db"
        if make_url(url).get_backend_name() == "postgresql":
            await fresh_database(url)
        else:
            await asyncio.to_thread(upgrade, url)
        started = time.perf_counter()
        await fill(url, points)
        print(f"{args.points} points written in {time.perf_counter() - started:.1f} s")
        if args.no_index:
            engine = create_engine(url)
            async with engine.begin() as connection:
                await connection.execute(text("DROP INDEX ix_communities_point_location"))
            await engine.dispose()
            print("without the latitude/longitude index")
        times, found = await measure(url, centers)
    ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, math.ceil(len(ms) * 0.99) - 1)]
    empty = sum(1 for n in found if n == 0)
    print(f"{empty} of {len(found)} searches found none within {RADIUS_KM} km (then the nearest)")
    print(
        f"near: {args.points} points, {len(ms)} queries p50 {p50:.2f} ms p99 {p99:.2f} ms "
        f"max {ms[-1]:.2f} ms ({statistics.mean(found):.1f} found within {RADIUS_KM} km on average)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--remote", type=float, default=0.2)
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--database")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
