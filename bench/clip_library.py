"""Open a day of the clip library with 2,000 clips in the SQLite state store.

What a library page costs, the way HomeSec's media source reads it: the
camera's clip ids (no state documents), grouped by the day their id carries
(``clip_start``, as the library does, in UTC here), then the states of one page
of 100 clips. As a baseline in the same process: reading every state of
the camera (what a library without paging would do). Prints both times, their
ratio, and the peak Python memory of each.

    .venv/bin/python -m bench.clip_library [--clips 2000]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import engine_only

engine_only.install()

from custom_components.homesec.engine.clip_names import clip_start
from custom_components.homesec.engine.models import ClipState, ClipStatus
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)

PAGE = 100
ROUNDS = 20


async def _measure(label: str, read: object) -> tuple[float, int]:
    tracemalloc.start()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await read()  # type: ignore[operator]
    elapsed = (time.perf_counter() - started) / ROUNDS
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{label:<34} {elapsed * 1000:8.1f} ms  peak {peak / 2**20:6.1f} MiB")
    return elapsed, peak


async def main(clips: int) -> None:
    """Fill a store, then time a paged page against reading everything."""
    with tempfile.TemporaryDirectory() as folder:
        store = SQLAlchemyStateStore(sqlite_url(Path(folder) / "bench.db"))
        await store.start()
        start = datetime(2026, 11, 20, tzinfo=UTC)
        states = [
            ClipState(
                clip_id=f"front_door_{start + timedelta(minutes=2 * n):%Y%m%d_%H%M%S}",
                camera_name="front_door",
                local_path=f"/spool/front_door/{n}.mp4",
                start_ts=start + timedelta(minutes=2 * n),
                status=ClipStatus.DONE,
            )
            for n in range(clips)
        ]
        await store.write(states, [])

        async def paged() -> None:
            ids = await store.clip_ids("front_door")
            days: dict[date, list[str]] = {}
            for clip_id in ids:
                started = clip_start(clip_id)
                if started is not None:
                    days.setdefault(started.date(), []).append(clip_id)
            newest_day = max(days)
            page = sorted(days[newest_day], reverse=True)[:PAGE]
            await store.get_states(page)

        async def everything() -> None:
            await store.recent_states("front_door", clips)

        print(f"{clips} clips over {clips * 2 // 60 // 24 + 1} days, pages of {PAGE}")
        base, base_peak = await _measure("baseline (read every state):", everything)
        page, page_peak = await _measure("library page (ids + 100 states):", paged)
        print(f"ratio page / baseline:             {page / base:.3f}")
        print(f"memory ratio page / baseline:      {page_peak / base_peak:.3f}")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2000)
    asyncio.run(main(parser.parse_args().clips))
