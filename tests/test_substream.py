"""Detection on an RTSP camera's substream: recorded beside each main-stream clip,
scanned instead of it, never stored, deleted and recovered with its clip."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
import io
import os
from pathlib import Path
import shutil
import subprocess
import time

from aiohttp import ClientSession
import av
import numpy as np
from PIL import Image
import pytest

from custom_components.homesec.engine.clip_names import detection_sidecar
from custom_components.homesec.engine.detect.motion import (
    MotionDetector,
    MotionSettings,
)
from custom_components.homesec.engine.detect.ncnn import NcnnDetector, NcnnSettings
from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.interfaces import ObjectDetector
from custom_components.homesec.engine.models import (
    Clip,
    ClipState,
    ClipStatus,
    FilterResult,
    Stage,
    StageStatus,
)
from custom_components.homesec.engine.recovery import find_unfinished
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retention import (
    RetentionSettings,
    apply_retention,
)
from custom_components.homesec.engine.sources.recorder import Recorder
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.sources.stream import StreamPacket, copy_packet
from custom_components.homesec.engine.sources.substream import SubstreamRecorder
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage

from .doubles.detection_server import DetectionServer
from .doubles.rtsp_server import RtspServer
from .pipeline_parts import run_blocking

MAIN = (1280, 720)
SUB = (320, 180)
LONG_AGO = time.time() - 3600


def _make_loop(
    path: Path, width: int, height: int, gop: int, *, box: bool = True
) -> Path:
    """10 s of grey; a red box (a "person" to the red model) moves from 4 s to 7 s.

    Sizes and positions are relative: both streams show the same scene. Without
    ``box``, nothing happens.
    """
    box_w, box_h = width * 15 // 100 // 2 * 2, height * 45 // 100 // 2 * 2
    scene = f"size={width}x{height}:rate=15:duration=10"
    red = f"size={box_w}x{box_h}:rate=15:duration=10"
    moving = f"x='(t-4)*{width // 10}':y={height // 4}:enable='between(t,4,7)'"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0xb0b0b0:{scene}",
            "-f", "lavfi", "-i", f"color=c=0xdc1414:{red}",
            "-filter_complex",
            f"[0][1]overlay={moving}:shortest=1" if box else "[0][1]overlay=-999:0",
            "-c:v", "libx264", "-g", str(gop), "-bf", "0", "-pix_fmt", "yuv420p",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def streams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The camera's main stream (1280x720, 1 s GOPs), substream (320x180, 2 s)."""
    folder = tmp_path_factory.mktemp("streams")
    _make_loop(folder / "main.mp4", *MAIN, gop=15)
    _make_loop(folder / "sub.mp4", *SUB, gop=30)
    _make_loop(folder / "quiet_sub.mp4", *SUB, gop=30, box=False)
    return folder


@pytest.fixture
def camera(streams: Path) -> Generator[RtspServer]:
    """A real RTSP server serving both streams on 127.0.0.1."""
    server = RtspServer(streams)
    server.start()
    yield server
    server.stop()


def _size(path: Path) -> tuple[int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def _jpeg_size(jpeg: bytes | None) -> tuple[int, int]:
    assert jpeg is not None
    return Image.open(io.BytesIO(jpeg)).size


async def _detect(model: Path, clip: Clip) -> FilterResult:
    detector = OnnxDetector(OnnxSettings(model_path=model))
    try:
        return await detector.detect(clip)
    finally:
        await detector.close()


def _source(
    spool: Spool, url: str, motion_url: str | None, **settings: float
) -> RtspSource:
    values = {"url": url, "motion_url": motion_url, "read_timeout_s": 2.0}
    return RtspSource(
        "porch",
        RtspSettings.model_validate(values | settings),
        spool,
        run_blocking,
    )


async def _record(
    source: RtspSource, count: int = 1, *, on_demand: bool = False
) -> list[Clip]:
    """Start ``source`` and collect ``count`` clips (recorded on demand if asked)."""
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    await source.start(sink)
    try:
        for wanted in range(1, count + 1):
            if on_demand:
                await _until(lambda: source.last_frame_at is not None, 20)
                source.record(2.0)
            await _until(lambda: len(clips) >= wanted, 40)  # noqa: B023
    finally:
        await source.stop()
    return clips


async def _until(predicate: Callable[[], bool], timeout: float) -> None:
    for _ in range(int(timeout * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_a_camera_with_a_substream_is_scanned_on_the_substream(
    camera: RtspServer, red_model: Path, tmp_path: Path
) -> None:
    """The clip is the main stream; detection and its snapshot use the substream."""
    # Given an RTSP camera with a 1280x720 main stream and a 320x180 substream
    spool = Spool(tmp_path / "spool")
    source = _source(
        spool, camera.url("main.mp4"), camera.url("sub.mp4"),
        pre_roll_s=2.0, stop_delay_s=1.5,
    )  # fmt: skip

    # When the red box moving in front of it is recorded and scanned
    clip = (await _record(source))[0]
    result = await _detect(red_model, clip)

    # Then the clip is the main stream, and a hidden substream recording
    # (320x180) lies beside it in the camera's folder
    assert await run_blocking(_size, clip.local_path) == MAIN
    assert clip.detection_path == detection_sidecar(clip.local_path)
    assert await run_blocking(_size, clip.detection_path) == SUB
    # And the person was found on it: the snapshot is a substream frame
    assert result.detected_classes == ["person"]
    assert _jpeg_size(result.snapshot_jpeg) == SUB
    # And the spool lists one clip, of both files' size
    entries = await run_blocking(spool.entries)
    assert [entry.path for entry in entries] == [clip.local_path]
    assert entries[0].detection_path == clip.detection_path
    sizes = clip.local_path.stat().st_size + clip.detection_path.stat().st_size
    assert entries[0].size == sizes


async def test_a_camera_without_a_substream_is_scanned_on_its_clip(
    camera: RtspServer, red_model: Path, tmp_path: Path
) -> None:
    """Without a substream, detection reads the main-stream clip."""
    # Given an RTSP camera with only a main stream
    spool = Spool(tmp_path / "spool")
    source = _source(
        spool, camera.url("main.mp4"), None, pre_roll_s=2.0, stop_delay_s=1.5
    )

    # When a clip is recorded and scanned
    clip = (await _record(source))[0]
    result = await _detect(red_model, clip)

    # Then it has no substream recording and the snapshot is a main-stream frame
    assert clip.detection_path is None
    assert result.detected_classes == ["person"]
    assert _jpeg_size(result.snapshot_jpeg) == MAIN
    assert [p.name for p in spool.camera_dir("porch").iterdir()] == [
        clip.local_path.name
    ]


async def test_a_failing_substream_leaves_the_clip_whole_and_logs_once(
    camera: RtspServer,
    red_model: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A substream that cannot be read: clips as usual, detection on the main."""
    # Given a camera whose substream does not exist on the camera
    spool = Spool(tmp_path / "spool")
    source = _source(spool, camera.url("main.mp4"), camera.url("missing.mp4"))

    # When two clips are recorded on demand
    clips = await _record(source, 2, on_demand=True)

    # Then both are main-stream clips without a substream recording
    for clip in clips:
        assert await run_blocking(_size, clip.local_path) == MAIN
        assert clip.detection_path is None
    assert {p.name for p in spool.camera_dir("porch").iterdir()} == {
        clip.local_path.name for clip in clips
    }
    # And the missing substream recording was logged once
    logged = [r for r in caplog.records if "substream was not recorded" in r.message]
    assert len(logged) == 1


@pytest.mark.parametrize("backend", ["ncnn", "onnx", "remote", "motion"])
async def test_every_detector_reads_the_substream_recording(
    streams: Path,
    red_model: Path,
    red_ncnn: Path,
    detection_server: DetectionServer,
    tmp_path: Path,
    backend: str,
) -> None:
    """Each backend scans the substream recording, not the clip."""
    # Given a clip showing a red box moving, whose substream recording shows a
    # quiet scene (real ones show the same scene: this tells which file is read)
    spool = Spool(tmp_path / "spool")
    main = tmp_path / "main.mp4"
    shutil.copyfile(streams / "main.mp4", main)
    sub = spool.camera_dir("porch") / ".rec_1.substream.mkv"
    sub.parent.mkdir(parents=True)
    shutil.copyfile(streams / "quiet_sub.mp4", sub)
    clip = await run_blocking(
        spool.adopt, main, "porch", "rtsp", datetime(2026, 11, 24, tzinfo=UTC), sub
    )
    without = clip.model_copy(update={"detection_path": None})

    # When the backend scans the clip, and the same clip without the recording
    async with ClientSession() as session:
        detectors: dict[str, ObjectDetector] = {
            "ncnn": NcnnDetector(NcnnSettings(model_path=red_ncnn)),
            "onnx": OnnxDetector(OnnxSettings(model_path=red_model)),
            "remote": RemoteDetector(
                RemoteSettings(url=detection_server.url), session, run_blocking
            ),
            "motion": MotionDetector(MotionSettings(), run_blocking),
        }
        detector = detectors[backend]
        try:
            on_substream = await detector.detect(clip)
            on_clip = await detector.detect(without)
        finally:
            await detector.close()

    # Then it found nothing on the substream, and the box on the clip
    assert on_substream.detected_classes == []
    assert on_clip.detected_classes != []


async def test_an_unreadable_or_missing_substream_recording_falls_back_to_the_clip(
    streams: Path, red_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A corrupt or vanished substream recording: the clip itself is scanned."""
    # Given a clip whose substream recording is garbage, and one whose is gone
    spool = Spool(tmp_path / "spool")
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    clips = []
    for index in range(2):
        main = tmp_path / f"main_{index}.mp4"
        shutil.copyfile(streams / "main.mp4", main)
        sub = spool.camera_dir("porch") / f".rec_{index}.substream.mkv"
        sub.parent.mkdir(parents=True, exist_ok=True)
        sub.write_bytes(b"\x1a\x45\xdf\xa3 not a video" * 100)
        clips.append(
            await run_blocking(
                spool.adopt, main, "porch", "rtsp", start + timedelta(minutes=index),
                sub,
            )
        )  # fmt: skip
    corrupt, gone = clips
    assert corrupt.detection_path is not None
    assert gone.detection_path is not None
    gone.detection_path.unlink()

    # When both are scanned
    results = [await _detect(red_model, clip) for clip in clips]

    # Then the person is found on each clip's main stream
    for result in results:
        assert result.detected_classes == ["person"]
        assert _jpeg_size(result.snapshot_jpeg) == MAIN
    # And the unreadable recording was logged (the missing one is simply absent)
    logged = [r for r in caplog.records if "cannot be read" in r.message]
    assert len(logged) == 1
    assert corrupt.clip_id in logged[0].message


async def test_the_substream_recording_is_never_stored_and_goes_with_its_clip(
    streams: Path, tmp_path: Path
) -> None:
    """Storage gets the main clip only; retention deletes both files."""
    # Given a spooled clip with its substream recording
    spool = Spool(tmp_path / "spool")
    main = tmp_path / "main.mp4"
    shutil.copyfile(streams / "main.mp4", main)
    sub = spool.camera_dir("porch") / ".rec_1.substream.mkv"
    sub.parent.mkdir(parents=True)
    shutil.copyfile(streams / "sub.mp4", sub)
    clip = await run_blocking(
        spool.adopt, main, "porch", "rtsp", datetime(2026, 11, 24, tzinfo=UTC), sub
    )
    assert clip.detection_path is not None

    # When it is stored
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    outcome = await storage.put(clip)

    # Then the store holds the main clip only
    assert [copy.uri for copy in await storage.stored()] == [outcome.storage_uri]
    assert [p.name for p in (tmp_path / "clips").rglob("*") if p.is_file()] == [
        clip.local_path.name
    ]

    # When retention deletes the stored, finished clip from the spool
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    state = ClipState.for_clip(clip).model_copy(
        update={"status": ClipStatus.DONE, "storage_uri": outcome.storage_uri}
    )
    for stage in (Stage.UPLOAD, Stage.DETECT, Stage.DECIDE):
        state.stages[stage].status = StageStatus.DONE
    await repository.save(state)
    plan = await apply_retention(
        spool,
        repository,
        RetentionSettings(max_bytes=0, max_age=None),
        run_blocking,
        datetime.now(UTC),
    )
    await repository.close()

    # Then both files are gone, and the bytes freed count both
    assert plan.delete == [clip.clip_id]
    assert not clip.local_path.exists()
    assert not clip.detection_path.exists()
    sizes = [(streams / name).stat().st_size for name in ("main.mp4", "sub.mp4")]
    assert plan.freed_bytes == sum(sizes)


async def test_a_restart_keeps_each_clip_with_its_substream_recording(
    streams: Path, tmp_path: Path, socket_enabled: None
) -> None:
    """Recovery re-attaches substream recordings; orphans and stray copies go."""
    # Given a spool after a crash: an unfinished clip with its substream
    # recording, a recording interrupted with its substream recording, a
    # substream recording whose clip is gone, and one whose recording is empty
    spool = Spool(tmp_path / "spool")
    folder = spool.camera_dir("porch")
    main = tmp_path / "main.mp4"
    shutil.copyfile(streams / "main.mp4", main)
    sub = folder / ".rec_0.substream.mkv"
    folder.mkdir(parents=True)
    shutil.copyfile(streams / "sub.mp4", sub)
    pending = await run_blocking(
        spool.adopt, main, "porch", "rtsp", datetime(2026, 11, 24, tzinfo=UTC), sub
    )
    shutil.copyfile(streams / "main.mp4", folder / ".rec_1.mp4")
    shutil.copyfile(streams / "sub.mp4", folder / ".rec_1.substream.mkv")
    (folder / ".rec_2.mp4").write_bytes(b"")
    shutil.copyfile(streams / "sub.mp4", folder / ".rec_2.substream.mkv")
    orphan = folder / ".porch_20261101_000000.detect.mkv"
    shutil.copyfile(streams / "sub.mp4", orphan)
    for path in folder.iterdir():
        os.utime(path, (LONG_AGO, LONG_AGO))
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    await repository.save(ClipState.for_clip(pending))

    # When the camera's source starts again (its streams are down) and
    # recovery looks for unfinished clips
    closed = "rtsp://127.0.0.1:9/live"
    source = _source(spool, closed, closed)
    adopted: list[Clip] = []

    async def sink(clip: Clip) -> None:
        adopted.append(clip)

    await source.start(sink)
    await source.stop()
    unfinished = await find_unfinished(spool, repository, run_blocking)
    await repository.close()

    # Then the unfinished clip comes back with its substream recording
    assert unfinished is not None
    found = {item.clip.clip_id: item.clip for item in unfinished}
    assert found[pending.clip_id].detection_path == pending.detection_path
    # And the interrupted recording became a clip with its substream recording
    assert len(adopted) == 1
    recovered = adopted[0]
    assert recovered.detection_path == detection_sidecar(recovered.local_path)
    assert await run_blocking(_size, recovered.detection_path) == SUB
    assert found[recovered.clip_id].detection_path == recovered.detection_path
    # And nothing else is left: no orphan, no stray substream recording
    assert {p.name for p in folder.iterdir()} == {
        pending.local_path.name,
        pending.detection_path.name,  # type: ignore[union-attr]
        recovered.local_path.name,
        recovered.detection_path.name,
    }


def _red_left(frame: av.VideoFrame) -> float | None:
    """Where the red box starts, as a fraction of the frame's width (None: absent)."""
    rgb = frame.to_ndarray(format="rgb24")
    columns = np.flatnonzero(((rgb[..., 0] > 150) & (rgb[..., 1] < 90)).any(axis=0))
    return float(columns[0]) / frame.width if columns.size else None


def _red_by_time(path: Path) -> dict[float, float | None]:
    with av.open(str(path)) as container:
        return {
            round(frame.time, 3): _red_left(frame)
            for frame in container.decode(video=0)
        }


def _replay_both(
    streams: Path,
    recorder: Recorder,
    substream: SubstreamRecorder,
    wanted: Callable[[float], bool],
    drop_at: float | None = None,
) -> None:
    """Feed both streams' packets as they arrive (stamped with stream time)."""
    arrivals: list[tuple[float, bool, StreamPacket]] = []
    with (
        av.open(str(streams / "main.mp4")) as main,
        av.open(str(streams / "sub.mp4")) as sub,
    ):
        recorder.stream_opened(main.streams.video[0])
        substream.stream_opened(sub.streams.video[0])
        for container, is_main in ((main, True), (sub, False)):
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                at = float((packet.dts or 0) * stream.time_base)
                if (copied := copy_packet(packet, at)) is not None:
                    arrivals.append((at, is_main, copied))
        for at, is_main, packet in sorted(arrivals, key=lambda item: item[0]):
            if is_main:
                recorder.on_packet(packet, wanted(at))
            elif drop_at is not None and at >= drop_at:
                substream.lost()
                drop_at = None
            else:
                substream.on_packet(packet)
        recorder.finish()


def _recorders(
    folder: Path, finished: list[tuple[Path, Path | None]]
) -> tuple[Recorder, SubstreamRecorder]:
    """A main recorder (2 s of pre-roll) with its substream recorder."""
    substream = SubstreamRecorder("porch", pre_roll=2.0)
    recorder = Recorder(
        folder,
        pre_roll=2.0,
        max_seconds=60.0,
        on_finished=lambda path, _, sub: finished.append((path, sub)),
        companion=substream,
    )
    return recorder, substream


def test_the_substream_recording_keeps_the_clip_s_timeline(
    streams: Path, tmp_path: Path
) -> None:
    """A moment has the same time in the clip and in its substream recording."""
    # Given the main recorder (1 s GOPs) and the substream recorder (2 s GOPs)
    finished: list[tuple[Path, Path | None]] = []
    recorder, substream = _recorders(tmp_path, finished)

    # When both streams arrive and the recording is wanted from 5 s to 6 s
    _replay_both(streams, recorder, substream, lambda at: 5.0 <= at < 6.0)

    # Then the clip starts at 3 s of the stream, the substream recording at its
    # first keyframe after that (4 s), placed 1 s into the clip's timeline
    ((clip, sub),) = finished
    assert sub is not None
    main_frames = _red_by_time(clip)
    sub_frames = _red_by_time(sub)
    assert min(main_frames) == 0.0
    assert min(sub_frames) == pytest.approx(1.0, abs=0.01)
    # And at every time both files show the red box at the same place
    common = sorted(set(main_frames) & set(sub_frames))
    assert len(common) >= 15
    assert any(main_frames[t] is not None for t in common)
    for t in common:
        main_x, sub_x = main_frames[t], sub_frames[t]
        assert (main_x is None) == (sub_x is None), t
        if main_x is not None and sub_x is not None:
            assert abs(main_x - sub_x) < 0.01, t


def test_a_substream_that_drops_during_a_clip_leaves_it_without_one(
    streams: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The clip is whole; its partial substream recording is discarded, logged."""
    # Given the main recorder with its substream recorder
    finished: list[tuple[Path, Path | None]] = []
    recorder, substream = _recorders(tmp_path, finished)

    # When the substream drops in the middle of a clip wanted from 5 s to 8 s
    _replay_both(streams, recorder, substream, lambda at: 5.0 <= at < 8.0, drop_at=6.0)

    # Then the clip is handed over whole (3 s to 8 s), without a substream
    # recording, and no part of one is left behind
    ((clip, sub),) = finished
    assert sub is None
    assert len(_red_by_time(clip)) == 5 * 15
    assert [p.name for p in tmp_path.iterdir()] == [clip.name]
    assert "the substream dropped" in caplog.text
