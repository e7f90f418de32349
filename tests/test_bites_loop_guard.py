"""The loop guard catches blocking calls behind any HomeSec frame on the loop.

"HomeSec code" here is compiled with a file name inside the integration's
folder (nothing is written there), so the guard sees it as HomeSec's own.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import io
import logging
from pathlib import Path
import sqlite3
from typing import Any

import homeassistant
import pytest

from . import loop_guard

FAKE_MODULE = str(Path(loop_guard.INTEGRATION) / "fake_module.py")
FAKE_HA_MODULE = str(Path(homeassistant.__file__).parent / "fake_helper.py")

HOMESEC_SOURCE = """\
import asyncio
import logging
import os
import shutil
import sqlite3
import subprocess
import threading

async def unlink(path, pool):
    os.unlink(path)  # call: unlink

async def remove(path, pool):
    os.remove(path)  # call: remove

async def utime(path, pool):
    os.utime(path)  # call: utime

async def lstat(path, pool):
    os.lstat(path)  # call: lstat

async def access(path, pool):
    os.access(path, os.R_OK)  # call: access

async def open_fd(path, pool):
    os.close(os.open(path, os.O_RDONLY))  # call: open_fd

async def rmtree(path, pool):
    shutil.rmtree(path.parent)  # call: rmtree

async def connect(path, pool):
    sqlite3.connect(path).close()  # call: connect

async def run(path, pool):
    subprocess.run(["true"], check=True)  # call: run

async def popen(path, pool):
    subprocess.Popen(["true"]).wait()  # call: popen

async def join(path, pool):
    thread = threading.Thread(target=int)
    thread.start()
    thread.join()  # call: join

async def result(path, pool):
    pool.submit(int).result()  # call: result

def remove_file(path):
    os.unlink(path)

async def through(helper, path):
    await helper(path)  # call: through

async def log_failure(logger):
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed")

async def asyncio_subprocess():
    process = await asyncio.create_subprocess_exec("true")
    return await process.wait()
"""

HA_SOURCE = """\
import os

async def async_remove(path):
    os.unlink(path)
"""


def _load(source: str, filename: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


HOMESEC = _load(HOMESEC_SOURCE, FAKE_MODULE)


def _line(marker: str) -> int:
    """The line of HOMESEC_SOURCE marked ``# call: <marker>``."""
    lines = HOMESEC_SOURCE.splitlines()
    return next(i for i, text in enumerate(lines, 1) if f"# call: {marker}" in text)


@pytest.fixture
def offenders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What a guard installed for this test records.

    It wraps the suite's own guard (installed first), which then stays silent:
    a guarded call made inside another one is not reported twice.
    """
    found: list[str] = []
    loop_guard.install(monkeypatch, found)
    return found


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file in a folder of its own, to stat, touch and delete."""
    path = tmp_path / "victim" / "file.db"
    path.parent.mkdir()
    path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("function", "label"),
    [
        ("unlink", "os.unlink"),
        ("remove", "os.remove"),
        ("utime", "os.utime"),
        ("lstat", "os.lstat"),
        ("access", "os.access"),
        ("open_fd", "os.open"),
        ("rmtree", "shutil.rmtree"),
        ("connect", "sqlite3.connect"),
        ("run", "subprocess.run"),
        ("popen", "subprocess.Popen"),
        ("join", "threading.Thread.join"),
        ("result", "concurrent.futures.Future.result"),
    ],
)
async def test_blocking_call_in_homesec_code_on_the_loop_is_caught(
    offenders: list[str], victim: Path, function: str, label: str
) -> None:
    """unlink, sqlite3.connect, subprocess.run... on the loop are each reported."""
    # Given an async function of the integration making one blocking call
    with ThreadPoolExecutor(1) as pool:
        # When it runs on the event loop
        await HOMESEC[function](victim, pool)

    # Then that one call is reported, where HomeSec made it
    assert len(offenders) == 1, offenders
    assert offenders[0].startswith(f"{label}(")
    assert offenders[0].endswith(f" at {FAKE_MODULE}:{_line(function)}")


async def test_call_through_home_assistant_code_is_caught(
    offenders: list[str], victim: Path
) -> None:
    """HomeSec awaiting library code (here Home Assistant's) that blocks counts."""
    # Given a Home Assistant coroutine that deletes a file on the loop
    helper = _load(HA_SOURCE, FAKE_HA_MODULE)["async_remove"]

    # When HomeSec awaits it on the event loop
    await HOMESEC["through"](helper, victim)

    # Then the call is reported at HomeSec's await
    assert offenders == [f"os.unlink({victim!r},) at {FAKE_MODULE}:{_line('through')}"]


async def test_homesec_code_in_an_executor_thread_is_fine(
    offenders: list[str], victim: Path
) -> None:
    """The same blocking call, run by HomeSec in a worker thread, is not reported."""
    # Given HomeSec's blocking helper
    # When it runs in the loop's executor
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, HOMESEC["remove_file"], victim)

    # Then the file is gone and nothing was reported
    assert not victim.exists()
    assert offenders == []


async def test_calls_without_homesec_on_the_stack_are_not_ours(
    offenders: list[str], victim: Path
) -> None:
    """Blocking calls made by other code on the loop are left to others."""
    # Given code outside the integration (this test) on the loop
    # When it makes blocking calls itself
    sqlite3.connect(victim).close()
    helper = _load(HA_SOURCE, FAKE_HA_MODULE)["async_remove"]
    await helper(victim)

    # Then nothing is reported
    assert offenders == []


async def test_logging_and_asyncio_internals_are_not_counted(
    offenders: list[str],
) -> None:
    """Tracebacks reading source lines, and asyncio starting a process, are fine."""
    # Given a logger that formats tracebacks (linecache looks for source files)
    logger = logging.getLogger("tests.loop_guard_fake")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        # When HomeSec logs a failure, and starts a process through asyncio
        await HOMESEC["log_failure"](logger)
        returncode = await HOMESEC["asyncio_subprocess"]()
    finally:
        logger.removeHandler(handler)

    # Then the traceback was logged, the process ran, and nothing was reported
    assert "ValueError: boom" in stream.getvalue()
    assert returncode == 0
    assert offenders == []
