"""A real RTSP server (aio-rtsp-toolkit) in a child process, serving a folder.

Run as ``python rtsp_server.py FOLDER PORT PORTFILE``: it writes the port it
listens on into PORTFILE (PORT 0 picks a free one). ``RtspServer`` starts,
stops and restarts it on the same port, to test reconnection.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import subprocess
import sys
import threading
import time


class RtspServer:
    """Serves ``folder`` over RTSP/TCP on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        """Nothing runs before ``start``."""
        self.folder = folder
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def url(self, name: str, credentials: str = "") -> str:
        """The looping stream of ``name``."""
        auth = f"{credentials}@" if credentials else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}/{name}?play_count=0"

    def start(self) -> None:
        """Start (again, on the same port once one was chosen)."""
        port_file = self.folder / f".rtsp-port-{id(self)}"
        port_file.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(self.folder), str(self.port), port_file],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        pause = threading.Event()
        while not port_file.exists() or not port_file.read_text().endswith("\n"):
            if time.monotonic() > deadline or self._process.poll() is not None:
                self._process.kill()
                msg = "the RTSP server did not start"
                raise RuntimeError(msg)
            pause.wait(0.05)  # not time.sleep: HA flags it inside a test's loop
        self.port = int(port_file.read_text())

    def stop(self) -> None:
        """Stop the server; clients see the stream drop."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait()  # no timeout: its polling sleeps
            self._process = None


async def _serve(folder: str, port: int, port_file: str) -> None:
    import aio_rtsp_toolkit.server as server  # noqa: PLC0415 - child process only

    rtsp = server.RtspServer(folder, host="127.0.0.1", port=port)
    await rtsp.start()
    bound = rtsp._server.sockets[0].getsockname()[1]
    Path(port_file).write_text(f"{bound}\n")
    await rtsp.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
