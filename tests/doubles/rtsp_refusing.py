"""An RTSP camera that refuses every login (RFC 2326: 401 to DESCRIBE)."""

from __future__ import annotations

import asyncio


class RefusingRtspCamera:
    """Answers OPTIONS, and 401 Unauthorized with a Basic challenge to the rest."""

    def __init__(self) -> None:
        """Nothing listens before ``start``."""
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, credentials: str) -> str:
        """The stream URL with ``user:password``."""
        return f"rtsp://{credentials}@127.0.0.1:{self.port}/live"

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                cseq = next(
                    (
                        line.split(b":", 1)[1].strip()
                        for line in lines
                        if line.lower().startswith(b"cseq:")
                    ),
                    b"1",
                )
                if head.startswith(b"OPTIONS"):
                    reply = b"200 OK\r\nPublic: DESCRIBE, SETUP, PLAY, TEARDOWN"
                else:
                    reply = b'401 Unauthorized\r\nWWW-Authenticate: Basic realm="cam"'
                status, _, rest = reply.partition(b"\r\n")
                writer.write(
                    b"RTSP/1.0 " + status + b"\r\nCSeq: " + cseq + b"\r\n"
                    + rest + b"\r\n\r\n"
                )  # fmt: skip
                await writer.drain()
        except asyncio.IncompleteReadError, ConnectionError:
            pass
        finally:
            writer.close()
