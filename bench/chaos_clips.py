"""Small real H.264 clips for the chaos bench, each copy tagged to be traced.

Two clips are encoded once with PyAV: a grey scene in which a red box (a
"person" for the detection server double) stands, and the same scene without
it. Every submitted copy gets a unique token in a trailing MP4 ``free`` box,
which players and demuxers skip by specification: the bench can then tell
which submitted clip any file in the spool or the clip store holds.
"""

from __future__ import annotations

from pathlib import Path
import struct

import av
import numpy as np

TOKEN_MAGIC = b"homesec-chaos:"
WIDTH, HEIGHT, FPS, SECONDS = 320, 180, 10, 2


def _encode(path: Path, *, person: bool) -> Path:
    """Encode a 2 s 320x180 clip; with a red box in every frame when ``person``."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"g": "10", "bf": "0", "preset": "ultrafast"}
        for index in range(FPS * SECONDS):
            image = np.full((HEIGHT, WIDTH, 3), 64, dtype=np.uint8)
            image[:, (index * 7) % WIDTH] = 200  # a little change frame to frame
            if person:
                image[40:140, 60:110] = (220, 20, 20)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_clips(folder: Path) -> dict[str, bytes]:
    """The bench's clips by kind (``person``, ``empty``), encoded once."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        kind: _encode(folder / f"{kind}.mp4", person=kind == "person").read_bytes()
        for kind in ("person", "empty")
    }


def tagged(content: bytes, token: str) -> bytes:
    """``content`` with a trailing ``free`` box carrying ``token``."""
    payload = TOKEN_MAGIC + token.encode()
    return content + struct.pack(">I4s", 8 + len(payload), b"free") + payload


def token_of(path: Path) -> str | None:
    """The token a tagged clip file carries, None for any other file."""
    try:
        with path.open("rb") as file:
            file.seek(0, 2)
            size = file.tell()
            file.seek(max(0, size - 96))
            tail = file.read()
    except OSError:
        return None
    return token_in(tail)


def token_in(tail: bytes) -> str | None:
    """The token at the end of a tagged clip's bytes, None if there is none."""
    tail = tail[-96:]
    at = tail.rfind(TOKEN_MAGIC)
    if at < 0:
        return None
    return tail[at + len(TOKEN_MAGIC) :].decode(errors="replace")
