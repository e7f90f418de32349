"""Catch blocking calls that HomeSec makes on the running event loop.

Home Assistant's own detector skips file I/O while testing, so this guard wraps
the usual blocking calls (files, processes, SQLite, sleeping, waiting on threads
and futures) and records each one made on the loop's thread, while a loop is
running, with a HomeSec module anywhere on the stack: directly, or through any
library, Home Assistant included, that HomeSec called or awaited.

Not counted: calls made for logging, for tracebacks (linecache, traceback) or
by the coverage tracer, wherever they sit between HomeSec and the call; and
calls asyncio itself makes (it starts subprocesses with ``subprocess.Popen``
and reads finished concurrent futures). HomeSec code running in an executor
thread has no running loop in that thread, so it is not counted either.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
import concurrent.futures
import functools
import io
import linecache
import logging
import os
from pathlib import Path
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from types import FrameType
from typing import Any

import coverage
import pytest

INTEGRATION = str(Path(__file__).parents[1] / "custom_components" / "homesec")
_INTEGRATION_FILES = INTEGRATION + os.sep


def _folder(module: Any) -> str:
    return str(Path(module.__file__).parent) + os.sep if module.__file__ else "\0"


NOT_OURS = tuple(_folder(module) for module in (logging, coverage)) + tuple(
    module.__file__ or "\0" for module in (linecache, traceback)
)
"""Code whose calls are its own business even with HomeSec further out."""

ASYNCIO = _folder(asyncio)
"""The event loop's own code: its direct calls are how asyncio works."""

GUARDED: list[tuple[object, str]] = [
    (builtins, "open"),
    (io, "open"),
    (os, "stat"),
    (os, "lstat"),
    (os, "access"),
    (os, "open"),
    (os, "scandir"),
    (os, "listdir"),
    (os, "replace"),
    (os, "rename"),
    (os, "unlink"),
    (os, "remove"),
    (os, "utime"),
    (os, "makedirs"),
    (os, "mkdir"),
    (shutil, "copyfile"),
    (shutil, "move"),
    (shutil, "rmtree"),
    (sqlite3, "connect"),
    (subprocess, "run"),
    (subprocess.Popen, "__init__"),
    (threading.Thread, "join"),
    (concurrent.futures.Future, "result"),
    (time, "sleep"),
]

_inside = threading.local()
"""Per thread: whether a guarded call is running (its inner calls are its own)."""


def _homesec_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost HomeSec frame behind this call, if it is HomeSec's to answer.

    Every frame up the stack is looked at, through Home Assistant and any other
    library, until HomeSec's integration folder is found. Calls made for
    logging, tracebacks or the coverage tracer stop the search: they are theirs.
    """
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(_INTEGRATION_FILES):
            return frame
        if filename.startswith(NOT_OURS):
            return None
        frame = frame.f_back
    return None


def offending_frame(caller: FrameType | None) -> FrameType | None:
    """The HomeSec frame to blame for a blocking call ``caller`` made, if any.

    Only calls on a thread whose event loop is running count, except those
    asyncio makes itself.
    """
    if asyncio._get_running_loop() is None or caller is None:
        return None
    if caller.f_code.co_filename.startswith(ASYNCIO):
        return None
    return _homesec_frame(caller)


def _label(owner: object, attribute: str) -> str:
    if isinstance(owner, type):
        module = ".".join(
            part for part in owner.__module__.split(".") if not part.startswith("_")
        )
        name = f"{module}.{owner.__qualname__}"
        return name if attribute == "__init__" else f"{name}.{attribute}"
    return f"{getattr(owner, '__name__', owner)}.{attribute}"


def install(monkeypatch: pytest.MonkeyPatch, offenders: list[str]) -> None:
    """Wrap every guarded call; offenders are appended to ``offenders``.

    A guarded call made while another one runs in the same thread (``shutil``
    calling ``os``, ``subprocess.run`` creating a ``Popen``) is not reported
    again, so a guard installed on top of another one records alone.
    """

    def wrap(owner: object, attribute: str) -> Callable[..., Any]:
        func: Callable[..., Any] = getattr(owner, attribute)
        label = _label(owner, attribute)
        first_argument = 1 if isinstance(owner, type) else 0

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if getattr(_inside, "call", False):
                return func(*args, **kwargs)
            _inside.call = True
            try:
                frame = offending_frame(sys._getframe(1))
                if frame is not None:
                    shown = args[first_argument : first_argument + 1]
                    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
                    offenders.append(f"{label}{shown!r} at {where}")
                return func(*args, **kwargs)
            finally:
                _inside.call = False

        return guarded

    for owner, attribute in GUARDED:
        monkeypatch.setattr(owner, attribute, wrap(owner, attribute))
