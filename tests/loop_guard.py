"""Catch blocking calls that HomeSec makes on the running event loop.

Home Assistant's own detector skips file I/O while testing, so this guard wraps
the usual blocking calls and records each one made on the loop's thread, while a
loop is running, with a HomeSec module on the stack.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
import io
import linecache
import logging
import os
from pathlib import Path
import shutil
import sys
import time
import traceback
from types import FrameType
from typing import Any

import coverage
import homeassistant
import pytest

INTEGRATION = str(Path(__file__).parents[1] / "custom_components" / "homesec")

NOT_OURS = tuple(
    str(Path(module.__file__).parent if module.__file__ else "")
    for module in (homeassistant, logging, coverage)
) + tuple(module.__file__ or "" for module in (linecache, traceback))

GUARDED: list[tuple[object, str]] = [
    (builtins, "open"),
    (io, "open"),
    (os, "stat"),
    (os, "scandir"),
    (os, "listdir"),
    (os, "replace"),
    (os, "rename"),
    (os, "makedirs"),
    (os, "mkdir"),
    (shutil, "copyfile"),
    (shutil, "move"),
    (time, "sleep"),
]


def _homesec_frame(frame: FrameType | None) -> FrameType | None:
    """The HomeSec frame that made this call, directly or through a library.

    Calls made by Home Assistant itself, by logging (tracebacks read source
    lines) or by the coverage tracer are theirs to answer for, not HomeSec's.
    """
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(INTEGRATION):
            return frame
        if filename.startswith(NOT_OURS):
            return None
        frame = frame.f_back
    return None


def install(monkeypatch: pytest.MonkeyPatch, offenders: list[str]) -> None:
    """Wrap every guarded call; offenders are appended to ``offenders``."""

    def wrap(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if asyncio._get_running_loop() is not None:
                frame = _homesec_frame(sys._getframe(1))
                if frame is not None:
                    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
                    offenders.append(f"{name}{args[:1]!r} at {where}")
            return func(*args, **kwargs)

        return guarded

    for owner, attribute in GUARDED:
        original = getattr(owner, attribute)
        monkeypatch.setattr(owner, attribute, wrap(attribute, original))
