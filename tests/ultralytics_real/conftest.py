"""Fixtures for the real-Ultralytics tests: clips, models and the 3.11 child.

``script/test_ultralytics`` runs these tests without ``tests/conftest.py`` (it
imports Home Assistant, which these tests do not need) and sets
``HOMESEC_ULTRALYTICS_PYTHON`` to its Python 3.11 environment's interpreter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
import sys

import pytest

from .remote import ULTRALYTICS_PYTHON, Child, modules

if ULTRALYTICS_PYTHON:
    # Only the engine: custom_components/homesec/__init__.py imports Home Assistant.
    from bench import engine_only

    engine_only.install()

# These import the engine: they come after the install above.
from ..clips import make_clip, make_red_box_clip
from ..red_person_model import build as build_red_person_model


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the session's clips."""
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def red_clip(clip_dir: Path) -> Path:
    """6 s, a red 100x160 box from t=2 s at x=120..220, y=100..260 of 640x360."""
    return make_red_box_clip(clip_dir / "red.mp4")


@pytest.fixture(scope="session")
def grey_clip(clip_dir: Path) -> Path:
    """A 4 s 640x360 grey clip with a white box moving across, no red."""
    return make_clip(clip_dir / "grey.mp4", motion=True)


@pytest.fixture(scope="session")
def red_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A YOLO-format ONNX model (160x160) seeing a person wherever a frame is red."""
    return build_red_person_model(tmp_path_factory.mktemp("model") / "red.onnx")


@pytest.fixture
def ultralytics_child(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Child]:
    """Real ``torch`` and ``ultralytics`` for HomeSec, from a fresh 3.11 child.

    The child starts in ``tmp_path`` with its own empty home folder; what HomeSec
    sets in the environment (YOLO_OFFLINE, YOLO_CONFIG_DIR) is undone after.
    """
    for name in ("YOLO_OFFLINE", "YOLO_CONFIG_DIR"):
        monkeypatch.setenv(name, "")  # remembers the value to restore
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    child = Child(ULTRALYTICS_PYTHON, {"HOME": str(home)})
    for name, module in modules(child).items():
        monkeypatch.setitem(sys.modules, name, module)
    yield child
    assert child.close() in (None, 0)
