"""Shared fixtures: the integration, a private config dir and real clips."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import logging
from pathlib import Path
import uuid

from dropbox import dropbox_client
from homeassistant import block_async_io
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.syrupy import (  # type: ignore[import-untyped]
    HomeAssistantSnapshotExtension,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from syrupy.assertion import SnapshotAssertion

import custom_components.homesec  # noqa: F401 - import before Home Assistant's loader
from custom_components.homesec import media_paths

from . import loop_guard
from .clips import (
    make_audio_only_clip,
    make_camera_loop_clip,
    make_clip,
    make_red_box_clip,
)
from .doubles.detection_server import DetectionServer
from .doubles.dropbox_api import DropboxDouble
from .doubles.openai_server import OpenAIServer
from .doubles.rtsp_server import RtspServer
from .doubles.tls import make_certificate
from .helpers import FolderHub, setup_folder_camera
from .red_person_model import build as build_red_person_model
from .red_person_ncnn import build as build_red_person_ncnn
from .servers import Mosquitto, Postgres

# SQLAlchemy logs every statement when its logger is at INFO, as the harness sets it.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
logging.getLogger("aiosqlite").setLevel(logging.INFO)


# Report blocking calls made on the event loop, as a running Home Assistant does
# (it skips file I/O under tests; loop_guard covers that).
block_async_io.enable()


@pytest.fixture(autouse=True)
def no_blocking_calls_on_the_loop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> Generator[None]:
    """Fail a test when HomeSec made a blocking call inside the event loop."""
    offenders: list[str] = []
    loop_guard.install(monkeypatch, offenders)
    caplog.set_level(logging.DEBUG, logger="homeassistant.util.loop")
    yield
    offenders += [
        record.getMessage().split("\n")[0]
        for record in caplog.get_records("call")
        if "inside the event loop by custom integration 'homesec'"
        in record.getMessage()
    ]
    assert offenders == []


@pytest.fixture(autouse=True)
def no_media_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """New hubs see no /media folder unless a test makes this one."""
    media = tmp_path / "media"
    monkeypatch.setattr(media_paths, "MEDIA_DIR", media)
    return media


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/homesec."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots through Home Assistant's syrupy extension.

    The harness defines this override too, but syrupy's plugin registers after it
    and its plain ``snapshot`` fixture wins; a conftest fixture comes first.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Generator[Path]:
    """Point Home Assistant's config dir at a fresh folder."""
    path = tmp_path / "config"
    path.mkdir()
    original = hass.config.config_dir
    hass.config.config_dir = str(path)
    yield path
    hass.config.config_dir = original


@pytest.fixture
async def folder_hub(hass: HomeAssistant, config_dir: Path) -> FolderHub:
    """A hub on embedded defaults with one folder camera, "Front door"."""
    entry, folder = await setup_folder_camera(hass, config_dir)
    return FolderHub(entry, folder)


@pytest.fixture(scope="session")
def postgres_server() -> Generator[Postgres]:
    """A real PostgreSQL server for the session (initdb + start about 1 s)."""
    server = Postgres()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's generated clips live."""
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def motion_clip(clip_dir: Path) -> Path:
    """A 4 s 640x360 H.264 clip with a white box moving across."""
    return make_clip(clip_dir / "motion.mp4", motion=True)


@pytest.fixture(scope="session")
def still_clip(clip_dir: Path) -> Path:
    """A 4 s 640x360 H.264 clip in which nothing moves."""
    return make_clip(clip_dir / "still.mp4", motion=False)


@pytest.fixture
async def detection_server(socket_enabled: None) -> AsyncGenerator[DetectionServer]:
    """A CodeProject.AI-compatible detection server on 127.0.0.1."""
    server = DetectionServer()
    runner = await server.start()
    yield server
    await runner.cleanup()


@pytest.fixture(scope="session")
def red_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ONNX model that reports a person wherever a frame is red."""
    return build_red_person_model(tmp_path_factory.mktemp("model") / "red.onnx")


@pytest.fixture(scope="session")
def red_ncnn(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The red-person model as an Ultralytics NCNN export folder (COCO names)."""
    return build_red_person_ncnn(tmp_path_factory.mktemp("ncnn") / "red_ncnn_model")


@pytest.fixture(scope="session")
def red_clip(clip_dir: Path) -> Path:
    """6 s, a red 100x160 box from t=2 s at x=120..220, y=100..260 of 640x360."""
    return make_red_box_clip(clip_dir / "red.mp4")


@pytest.fixture
async def openai_server(socket_enabled: None) -> AsyncGenerator[OpenAIServer]:
    """An OpenAI-compatible Chat Completions server on 127.0.0.1."""
    server = OpenAIServer()
    runner = await server.start()
    yield server
    await runner.cleanup()


@pytest.fixture(scope="session")
def camera_loop_clip(clip_dir: Path) -> Path:
    """The 10 s RTSP camera loop: rest 0-4 s, a box moves 4-7 s, rest after."""
    return make_camera_loop_clip(clip_dir / "camera_loop.mp4")


@pytest.fixture(scope="session")
def audio_only_clip(clip_dir: Path) -> Path:
    """An MP4 without video, next to the RTSP loop (the server serves both)."""
    return make_audio_only_clip(clip_dir / "audio_only.mp4")


@pytest.fixture
def rtsp_server(camera_loop_clip: Path) -> Generator[RtspServer]:
    """A real RTSP server on 127.0.0.1 looping ``camera_loop.mp4``."""
    server = RtspServer(camera_loop_clip.parent)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A TLS certificate for 127.0.0.1."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def double(
    certificate: tuple[Path, Path], socket_enabled: None
) -> Generator[DropboxDouble]:
    """A running Dropbox API double."""
    server = DropboxDouble(*certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dropbox_api(
    double: DropboxDouble, monkeypatch: pytest.MonkeyPatch
) -> DropboxDouble:
    """The Dropbox SDK talks to the double (over real HTTPS) in Home Assistant."""
    monkeypatch.setattr(dropbox_client, "create_session", lambda **_: double.session())
    return double


@pytest.fixture
async def postgres_dsn(
    postgres_server: Postgres, socket_enabled: None
) -> AsyncGenerator[str]:
    """A fresh database on the session's PostgreSQL server."""
    name = f"homesec_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(postgres_server.dsn, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    yield postgres_server.dsn.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def mosquitto() -> Generator[Mosquitto]:
    """A real MQTT broker for the session."""
    broker = Mosquitto()
    broker.start()
    yield broker
    broker.stop()
