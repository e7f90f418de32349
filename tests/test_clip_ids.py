"""Clip ids are unique: same-second arrivals, concurrent adoptions, stored copies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
import os
from pathlib import Path
import threading

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.homesec.const import EVENT_ALERT
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.storage.local import LocalStorage

from .helpers import FolderHub, wait_for
from .pipeline_parts import run_blocking

TS = datetime(2026, 11, 24, 10, 15, 0, tzinfo=UTC)


def test_a_picture_and_a_video_of_one_second_get_two_ids(tmp_path: Path) -> None:
    """Different extensions do not share an id: both files stay and are clips."""
    # Given a picture and a video uploaded in the same second
    spool = Spool(tmp_path / "spool")
    picture = tmp_path / "snap.jpg"
    video = tmp_path / "clip.mp4"
    picture.write_bytes(b"jpeg")
    video.write_bytes(b"video")

    # When both are adopted
    first = spool.adopt(picture, "porch", "ftp", TS)
    second = spool.adopt(video, "porch", "ftp", TS)

    # Then they have two ids, and the spool lists both
    assert first.clip_id != second.clip_id
    assert {entry.clip_id for entry in spool.entries()} == {
        first.clip_id,
        second.clip_id,
    }
    assert first.local_path.read_bytes() == b"jpeg"
    assert second.local_path.read_bytes() == b"video"


def test_concurrent_adoptions_of_one_second_lose_nothing(tmp_path: Path) -> None:
    """Uploads finished at the same moment in several threads each keep a clip."""
    # Given 8 uploads of the same second, released together from 8 threads
    spool = Spool(tmp_path / "spool")
    count = 8
    sources = []
    for index in range(count):
        path = tmp_path / f"upload{index}.mp4"
        path.write_bytes(f"clip {index}".encode())
        sources.append(path)
    start = threading.Barrier(count)

    def adopt(path: Path) -> Clip:
        start.wait()
        return spool.adopt(path, "gate", "ftp", TS)

    # When they are adopted at once
    with ThreadPoolExecutor(count) as pool:
        clips = list(pool.map(adopt, sources))

    # Then every upload is a clip of its own, with its own content
    assert len({clip.clip_id for clip in clips}) == count
    assert sorted(clip.local_path.read_bytes() for clip in clips) == sorted(
        f"clip {index}".encode() for index in range(count)
    )
    assert len(spool.entries()) == count


@pytest.mark.parametrize("other", [b"another clip", b"other"], ids=["size", "bytes"])
async def test_storage_never_overwrites_a_different_clip(
    tmp_path: Path, other: bytes
) -> None:
    """A stored copy of another clip under the same id is kept, and put fails."""
    # Given a stored clip, and a different clip that got the same id
    # (for example after the camera's clock went back)
    storage = LocalStorage(tmp_path / "store", run_blocking)
    first = tmp_path / "a" / "porch_20261201_101500.mp4"
    later = tmp_path / "b" / "porch_20261201_101500.mp4"
    for path, data in ((first, b"first"), (later, other)):
        path.parent.mkdir()
        path.write_bytes(data)

    def clip(path: Path) -> Clip:
        return Clip(
            clip_id=path.stem,
            camera_name="porch",
            local_path=path,
            start_ts=TS,
            source_type="test",
        )

    await storage.put(clip(first))

    # When the later clip is stored, and the first one again
    with pytest.raises(FileExistsError, match="different clip"):
        await storage.put(clip(later))
    again = await storage.put(clip(first))

    # Then the stored copy is still the first clip's, and storing it again is fine
    stored = tmp_path / "store" / "porch" / first.name
    assert stored.read_bytes() == b"first"
    assert again.storage_uri == f"local:porch/{first.name}"


def _drop_at(folder: Path, name: str, data: bytes, when: datetime) -> None:
    """Put a file into a watched folder whose time is ``when`` (as a camera does)."""
    hidden = folder / f".{name}"
    hidden.write_bytes(data)
    os.utime(hidden, (when.timestamp(), when.timestamp()))
    hidden.rename(folder / name)


async def test_an_id_is_not_handed_out_again_after_retention_and_a_restart(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """A clip of an earlier clip's second, after that clip left the spool, is new."""
    # Given a clip of 10:15:00 that was stored, then removed from the spool,
    # and Home Assistant restarted
    entry, drop = folder_hub.entry, folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    video = motion_clip.read_bytes()
    await hass.async_add_executor_job(_drop_at, drop, "a.mp4", video, TS)
    await wait_for(lambda: len(alerts) == 1, what="the first clip")
    hub = entry.runtime_data
    await wait_for(lambda: hub.engine.pipeline.in_flight == 0, what="idle")
    hub.runtime.retention = hub.runtime.retention.model_copy(update={"max_bytes": 0})
    assert (await hub.runtime.async_retention()).delete == [alerts[0].data["clip_id"]]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    # When another clip with the same time arrives (a camera clock set back)
    other = video + b"\0" * 16
    await hass.async_add_executor_job(_drop_at, drop, "b.mp4", other, TS)
    await wait_for(lambda: len(alerts) == 2, what="the second clip")

    # Then it has an id of its own, and both stored copies are kept
    first, second = (event.data for event in alerts)
    assert second["clip_id"] != first["clip_id"]
    assert second["upload_failed"] is False
    store = config_dir / "homesec" / "clips" / "front_door"
    assert (store / f"{first['clip_id']}.mp4").read_bytes() == video
    assert (store / f"{second['clip_id']}.mp4").read_bytes() == other
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )


def test_two_spools_on_one_folder_never_share_an_id(tmp_path: Path) -> None:
    """Adoptions racing through two spool objects (a reload's overlap) keep both."""
    # Given two spool objects on one folder, and pairs of uploads of one second
    first_spool, second_spool = Spool(tmp_path / "spool"), Spool(tmp_path / "spool")
    rounds = 150
    sources = []
    for index in range(rounds * 2):
        path = tmp_path / "in" / f"upload{index}.mp4"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(f"clip {index}".encode())
        sources.append(path)
    start = threading.Barrier(2)

    def adopt(spool: Spool, paths: list[Path]) -> None:
        for path in paths:
            start.wait()
            spool.adopt(path, "gate", "ftp", TS)

    # When each spool adopts one of every pair at the same moment
    with ThreadPoolExecutor(2) as pool:
        done = [
            pool.submit(adopt, first_spool, sources[0::2]),
            pool.submit(adopt, second_spool, sources[1::2]),
        ]
        for future in done:
            future.result()

    # Then every upload is a clip of its own, with its own content
    kept = sorted(entry.path.read_bytes() for entry in first_spool.entries())
    assert kept == sorted(f"clip {index}".encode() for index in range(rounds * 2))


def test_an_id_retention_freed_is_not_handed_out_again(tmp_path: Path) -> None:
    """Without the state store's ids, the spool still remembers what it deleted."""
    # Given a clip of 10:15:00 adopted before a restart, a spool started while
    # the state store was down (it learnt no ids), and retention removing the clip
    first = tmp_path / "first.mp4"
    first.write_bytes(b"first")
    clip = Spool(tmp_path / "spool").adopt(first, "porch", "ftp", TS)
    spool = Spool(tmp_path / "spool")
    spool.delete([clip.local_path])

    # When another clip of the same second arrives (a camera clock set back)
    later = tmp_path / "later.mp4"
    later.write_bytes(b"later")
    again = spool.adopt(later, "porch", "ftp", TS)

    # Then it gets an id of its own
    assert again.clip_id != clip.clip_id


def test_a_deleted_id_stays_taken_after_a_start_without_the_state_store(
    tmp_path: Path,
) -> None:
    """The spool's own list of deleted ids holds when the store cannot be asked."""
    # Given a clip of 10:15:00 that retention removed, and a restart while the
    # state store was down (a new spool that learnt no ids from it)
    first = tmp_path / "first.mp4"
    first.write_bytes(b"first")
    before = Spool(tmp_path / "spool")
    clip = before.adopt(first, "porch", "ftp", TS)
    before.delete([clip.local_path])
    after = Spool(tmp_path / "spool")

    # When a clip of the same second arrives (a camera clock set back)
    later = tmp_path / "later.mp4"
    later.write_bytes(b"later")
    again = after.adopt(later, "porch", "ftp", TS)

    # Then it gets an id of its own, and the list of deleted ids is hidden
    assert again.clip_id != clip.clip_id
    assert [entry.clip_id for entry in after.entries()] == [again.clip_id]


def test_the_list_of_deleted_ids_forgets_ids_older_than_it_keeps(
    tmp_path: Path,
) -> None:
    """Ids are remembered for a bounded time, so the list does not grow for ever."""
    # Given a spool that deleted a clip of two years ago and one of last week
    spool = Spool(tmp_path / "spool")
    old, recent = tmp_path / "old.mp4", tmp_path / "recent.mp4"
    old.write_bytes(b"old")
    recent.write_bytes(b"recent")
    now = datetime.now(UTC)
    clips = [
        spool.adopt(old, "porch", "ftp", now - timedelta(days=730)),
        spool.adopt(recent, "porch", "ftp", now - timedelta(days=7)),
    ]
    spool.delete([clip.local_path for clip in clips])

    # When a new spool reserves its first id
    fresh = tmp_path / "fresh.mp4"
    fresh.write_bytes(b"fresh")
    Spool(tmp_path / "spool").adopt(fresh, "porch", "ftp", now)

    # Then only last week's id is still listed
    listing = tmp_path / "spool" / "porch" / ".deleted"
    assert listing.read_text().split() == [clips[1].clip_id]
