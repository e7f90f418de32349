"""Leftovers of interrupted recordings and spool moves are cleared at start."""

from __future__ import annotations

from datetime import UTC, datetime
import logging
import os
from pathlib import Path
import shutil
import socket
import time

from homeassistant.core import HomeAssistant
import pytest

from custom_components.homesec.adapters.ha_camera import (
    HaCameraSettings,
    HaCameraSource,
)
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.sources.folder import (
    FolderSettings,
    FolderSource,
)
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.storage.local import LocalStorage

from .pipeline_parts import run_blocking

LONG_AGO = time.time() - 3600


def _crash_leftover(path: Path, data: bytes = b"", *, old: bool = True) -> Path:
    """A file as a crash leaves it: written, and untouched since (when ``old``)."""
    path.write_bytes(data)
    if old:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return path


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _files(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


async def test_spool_moves_cut_short_are_finished_or_cleared(
    tmp_path: Path, motion_clip: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reservations go, a staged clip gets its name, copies in progress go."""
    # Given a camera's spool folder as a crash in the middle of moves leaves it:
    # a finished clip, a bare reservation, a clip staged whole (renamed in, not
    # yet named), a copy from another disk cut short, and a reservation taken
    # just now (by a move that may still be running)
    spool = Spool(tmp_path / "spool")
    folder = spool.camera_dir("porch")
    folder.mkdir(parents=True)
    data = motion_clip.read_bytes()
    finished = folder / "porch_20261124_110000.mp4"
    shutil.copyfile(motion_clip, finished)
    finished_mtime = finished.stat().st_mtime
    _crash_leftover(folder / ".porch_20261124_120000.partial")
    _crash_leftover(folder / ".porch_20261124_120001.partial")
    _crash_leftover(folder / ".porch_20261124_120001.mp4.partial", data)
    _crash_leftover(folder / ".porch_20261124_120002.partial")
    _crash_leftover(folder / ".porch_20261124_120002.mp4.copying", data[:100])
    _crash_leftover(folder / ".porch_20261124_130000.partial", old=False)
    watched = tmp_path / "watched"
    watched.mkdir()
    source = FolderSource(
        "porch", FolderSettings(watch_dir=watched), spool, run_blocking
    )

    async def sink(_: Clip) -> None:
        return None

    # When the camera's source starts
    await source.start(sink)
    await source.stop()

    # Then the staged clip has its final name, whole; the reservations and the
    # cut copy are gone; the finished clip and the fresh reservation are untouched
    assert _files(folder) == {
        finished.name,
        "porch_20261124_120001.mp4",
        ".porch_20261124_130000.partial",
    }
    assert (folder / "porch_20261124_120001.mp4").read_bytes() == data
    assert finished.stat().st_mtime == finished_mtime
    # And it was logged once
    assert len([r for r in caplog.records if "leftovers" in r.getMessage()]) == 1


async def test_interrupted_rtsp_recordings_become_clips_or_go(
    tmp_path: Path,
    motion_clip: Path,
    caplog: pytest.LogCaptureFixture,
    socket_enabled: None,
) -> None:
    """A readable recording is kept as a clip; empty and unreadable ones go."""
    # Given the spool folder of an RTSP camera after a crash while recording:
    # a readable recording, an empty one, an unreadable one, and a finished clip
    spool = Spool(tmp_path / "spool")
    folder = spool.camera_dir("porch")
    folder.mkdir(parents=True)
    data = motion_clip.read_bytes()
    _crash_leftover(folder / ".rec_000000000001.mp4", data)
    _crash_leftover(folder / ".rec_000000000002.mp4")
    _crash_leftover(folder / ".rec_000000000003.mp4", data[:300])
    finished = folder / "porch_20261124_110000.mp4"
    shutil.copyfile(motion_clip, finished)
    url = f"rtsp://127.0.0.1:{_closed_port()}/live"
    source = RtspSource(
        "porch", RtspSettings.model_validate({"url": url}), spool, run_blocking
    )
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    # When the source starts
    await source.start(sink)
    await source.stop()

    # Then the readable recording is a clip, the others are gone, the finished
    # clip is untouched, and it was logged once
    assert [clip.local_path.read_bytes() == data for clip in clips] == [True]
    assert _files(folder) == {finished.name, clips[0].local_path.name}
    assert finished.read_bytes() == data
    logged = [r for r in caplog.records if "interrupted recordings" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].levelno == logging.WARNING


async def test_interrupted_ha_camera_recordings_become_clips_or_go(
    hass: HomeAssistant, tmp_path: Path, motion_clip: Path
) -> None:
    """Stream copies and snapshot clips a crash cut short are not left behind."""
    # Given the spool folder of a Home Assistant camera after a crash: a
    # readable stream copy, an unreadable snapshot clip, and a reservation
    spool = Spool(tmp_path / "spool")
    folder = spool.camera_dir("porch")
    folder.mkdir(parents=True)
    data = motion_clip.read_bytes()
    _crash_leftover(folder / ".rec_00000000000a.mp4", data)
    _crash_leftover(folder / ".rec_00000000000b.mkv", b"\x1aE\xdf\xa3 cut")
    _crash_leftover(folder / ".porch_20261124_120000.partial")
    source = HaCameraSource(
        hass, "porch", HaCameraSettings(camera_entity="camera.porch"), spool
    )
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    # When the source starts
    await source.start(sink)
    await source.stop()

    # Then only the readable recording remains, as a clip
    assert len(clips) == 1
    assert clips[0].source_type == "ha_camera"
    assert _files(folder) == {clips[0].local_path.name}


def test_a_file_from_another_disk_is_moved_whole(
    tmp_path: Path, motion_clip: Path
) -> None:
    """A watched folder on another disk: the file is copied, then named."""
    # Given a clip on another file system than the spool (a RAM disk)
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second file system to move from")
    source = shm / f"homesec-test-{os.getpid()}.mp4"
    shutil.copyfile(motion_clip, source)
    spool = Spool(tmp_path / "spool")

    # When the spool adopts it
    try:
        clip = spool.adopt(source, "porch", "folder", datetime.now(UTC))
        source_left = source.exists()
    finally:
        source.unlink(missing_ok=True)

    # Then the spool holds the whole clip under its name, and nothing else
    assert clip.local_path.read_bytes() == motion_clip.read_bytes()
    assert _files(spool.camera_dir("porch")) == {clip.local_path.name}
    assert not source_left


async def test_partial_copies_a_crash_left_in_the_clip_store_are_removed(
    tmp_path: Path,
) -> None:
    """A copy cut short in the clip store goes; a copy in progress stays."""
    # Given a clip store with a stored clip, a partial copy an hour and more
    # old (a crash mid-copy), and one being written now
    folder = tmp_path / "store" / "porch"
    folder.mkdir(parents=True)
    (folder / "porch_20261124_101500.mp4").write_bytes(b"clip")
    stale = folder / ".porch_20261124_101600.mp4.partial"
    stale.write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    fresh = folder / ".porch_20261124_101700.mp4.partial"
    fresh.write_bytes(b"half")
    storage = LocalStorage(tmp_path / "store", run_blocking)

    # When the store is listed (as every retention pass does)
    copies = await storage.stored()

    # Then the stale partial copy is gone, the fresh one and the clip stay
    assert [copy.name for copy in copies] == ["porch_20261124_101500.mp4"]
    assert not stale.exists()
    assert fresh.exists()
