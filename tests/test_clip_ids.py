"""Clip ids are unique: same-second arrivals, concurrent adoptions, stored copies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
import threading

import pytest

from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.storage.local import LocalStorage

from .pipeline_parts import run_blocking

TS = datetime(2026, 12, 1, 10, 15, 0, tzinfo=UTC)


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
