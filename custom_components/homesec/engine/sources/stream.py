"""Live stream building blocks: URLs with credentials, a packet ring, a clip writer.

Clips are written by stream copy (libav remuxing through PyAV, no re-encode)
into fragmented MP4 (or Matroska), so a recording cut short by a crash is still
playable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import av
import av.container
import av.error
import av.video

from ..redact import redact_text, redact_url
from ..text import first_line

type VideoPacket = av.Packet[av.video.stream.VideoStream]

FRAGMENTED_MP4 = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}
MAX_RING_BYTES = 64 * 1024 * 1024
"""Cap of the pre-roll buffer, for streams that never send a keyframe."""


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """``url`` with URL-encoded credentials in it (as ffmpeg expects them)."""
    if not username:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = quote(username, safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """Take credentials typed into a URL out of it: (url, username, password)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, host = parts.netloc.rsplit("@", 1)
    username, _, password = userinfo.partition(":")
    return (
        urlunsplit(parts._replace(netloc=host)),
        unquote(username) or None,
        unquote(password) or None,
    )


def describe_stream_error(err: BaseException, url: str) -> str:
    """A one-line reason without the URL (libav errors embed it, with secrets)."""
    if isinstance(err, av.error.FFmpegError):
        text = err.strerror or type(err).__name__
    else:
        text = first_line(err)
    _, username, password = split_credentials(url)
    text = redact_text(text.replace(url, redact_url(url)), (username, password))
    return f"{type(err).__name__}: {text}"


def open_stream(
    url: str, *, transport: str, open_timeout: float, read_timeout: float
) -> av.container.InputContainer:
    """Open a live stream (blocking); every read gives up after ``read_timeout``."""
    options = {"rtsp_transport": transport} if url.startswith("rtsp") else {}
    return av.open(url, options=options, timeout=(open_timeout, read_timeout))


@dataclass(frozen=True, slots=True)
class StreamPacket:
    """A demuxed packet copied out of libav, with when it arrived."""

    wall: float
    pts: int
    dts: int
    keyframe: bool
    data: bytes


def copy_packet(packet: VideoPacket, wall: float) -> StreamPacket | None:
    """Keep a packet (None for packets without timing, which cannot be muxed)."""
    if packet.dts is None or packet.size == 0:
        return None
    pts = packet.pts if packet.pts is not None else packet.dts
    return StreamPacket(wall, pts, packet.dts, packet.is_keyframe, bytes(packet))


class PacketRing:
    """The last few seconds of packets in whole GOPs (the pre-roll)."""

    def __init__(self, seconds: float, max_bytes: int = MAX_RING_BYTES) -> None:
        """Keep at least ``seconds`` of stream, starting at a keyframe."""
        self._seconds = seconds
        self._max_bytes = max_bytes
        self._gops: deque[list[StreamPacket]] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        """How many packets are held."""
        return sum(len(gop) for gop in self._gops)

    def append(self, packet: StreamPacket) -> None:
        """Add a packet and drop the GOPs older than needed."""
        if packet.keyframe:
            self._gops.append([packet])
        elif self._gops:
            self._gops[-1].append(packet)
        else:
            return  # nothing decodable before the first keyframe
        self._bytes += len(packet.data)
        horizon = packet.wall - self._seconds
        while len(self._gops) > 1 and (
            self._gops[1][0].wall <= horizon or self._bytes > self._max_bytes
        ):
            self._bytes -= sum(len(p.data) for p in self._gops.popleft())
        if self._bytes > self._max_bytes:  # one endless GOP: wait for a keyframe
            self.clear()

    def since(self, wall: float) -> list[StreamPacket]:
        """What is held from the first keyframe that arrived at ``wall`` or later."""
        for index, gop in enumerate(self._gops):
            if gop[0].wall >= wall:
                return [p for later in list(self._gops)[index:] for p in later]
        return []

    def drain(self) -> list[StreamPacket]:
        """Everything held, oldest first (starts with a keyframe), and empty."""
        packets = [packet for gop in self._gops for packet in gop]
        self.clear()
        return packets

    def clear(self) -> None:
        """Forget everything (the stream was lost)."""
        self._gops.clear()
        self._bytes = 0


class ClipWriter:
    """Stream-copies packets of one video stream into a fragmented MP4 file.

    A ``.mkv`` path is written as Matroska instead, which keeps a ``start``
    offset (MP4 restarts every file at zero).
    """

    def __init__(
        self, path: Path, template: av.video.stream.VideoStream, start: float = 0.0
    ) -> None:
        """Create ``path`` with the codec parameters of ``template`` (blocking).

        The first packet is placed ``start`` seconds into the file.
        """
        self.path = path
        base = template.time_base
        self._time_base = (
            Fraction(base.numerator, base.denominator) if base else Fraction(1, 90000)
        )
        self._start = round(start / self._time_base)
        self._out = (
            av.open(str(path), "w", format="matroska")
            if path.suffix == ".mkv"
            else av.open(str(path), "w", format="mp4", options=FRAGMENTED_MP4)
        )
        self._stream = self._out.add_stream_from_template(template)
        self._stream.time_base = self._time_base
        self._origin: int | None = None
        self._last_dts: int | None = None
        self.first_wall: float | None = None
        self.packets = 0

    def write_all(self, packets: Iterable[StreamPacket]) -> None:
        """Write packets in order."""
        for packet in packets:
            self.write(packet)

    def write(self, packet: StreamPacket) -> None:
        """Write one packet, with timestamps rebased to start at zero."""
        if self._origin is None:
            self._origin = packet.dts - self._start
            self.first_wall = packet.wall
        dts = packet.dts - self._origin
        pts = packet.pts - self._origin
        if self._last_dts is not None and dts <= self._last_dts:
            shift = self._last_dts + 1 - dts  # a camera clock jump: keep order
            dts += shift
            pts += shift
        pts = max(pts, dts)
        out = av.Packet(packet.data)
        out.pts = pts
        out.dts = dts
        out.time_base = self._time_base
        out.is_keyframe = packet.keyframe
        out.stream = self._stream
        self._out.mux(out)
        self._last_dts = dts
        self.packets += 1

    def close(self) -> None:
        """Finish the file (blocking)."""
        self._out.close()
