"""Groups of pictures decoded at once, each by a decoder of its own thread.

Every group of pictures starts at a keyframe, so in a seekable file (MP4, MKV)
decoders can seek to different groups and decode them side by side; the frames
still come out in time order. Used by the keyframes-first in-between pass.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
import queue
import threading

import av
import av.container
import av.error

from . import frames
from .frames import FAST_DECODE, SEEKABLE, SampledFrame, _free_decoder


@dataclass(frozen=True, slots=True)
class Group:
    """The wanted frames of one group of pictures, and its keyframe's pts."""

    keyframe: int
    wanted: frozenset[int]


def seekable(container: av.container.InputContainer) -> bool:
    """Whether the container's index seeks to keyframes (MP4, MKV)."""
    return container.format.name.split(",")[0] in SEEKABLE


GROUP_END = object()
"""What a group decoder sends after each of its groups' frames."""


def decode_groups(
    path: Path,
    groups: list[Group],
    side: int,
    decoders: int,
    open_clip: Callable[[Path], av.container.InputContainer],
) -> Generator[SampledFrame]:
    """Yield the groups' wanted frames in time order, ``decoders`` at work at once.

    Decoder ``i`` takes groups ``i``, ``i + decoders``... on a thread of its
    own, working ahead of the group being yielded: at most two sampled frames
    (one waiting in its queue, one in hand). Closing stops and joins the
    decoders. A decoding error ends the frames there, quietly (what was read),
    like a damaged tail. ``open_clip`` opens the file for each decoder.
    """
    decoders = min(decoders, len(groups))
    queues: list[queue.Queue[object]] = [queue.Queue(1) for _ in range(decoders)]
    stop = threading.Event()

    def decode(mine: Sequence[Group], results: queue.Queue[object]) -> None:

        def put(item: object) -> None:
            while not stop.is_set():
                try:
                    results.put(item, timeout=0.1)
                except queue.Full:
                    continue
                return

        try:
            for frame in _decode_own(open_clip(path), mine, side, stop):
                put(frame)
        except Exception as err:  # noqa: BLE001 - raised by the consumer
            put(err)
        put(None)

    workers = [
        threading.Thread(
            target=decode,
            args=(groups[i::decoders], queues[i]),
            name=f"homesec-decode-{i}",
        )
        for i in range(decoders)
    ]
    for worker in workers:
        worker.start()
    try:
        for index in range(len(groups)):
            item = queues[index % decoders].get()
            while isinstance(item, SampledFrame):
                yield item
                item = queues[index % decoders].get()
            if isinstance(item, Exception):
                raise item
            if item is None:
                return  # a damaged group: nothing after it
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        _free_decoder()


def _decode_own(
    container: av.container.InputContainer,
    groups: Sequence[Group],
    side: int,
    stop: threading.Event,
) -> Generator[SampledFrame | object]:
    """One decoder's groups: seek to each keyframe, decode to its last frame.

    Each group's frames are followed by ``GROUP_END``; closes ``container``.
    """
    try:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        stream.codec_context.options = dict(FAST_DECODE)
        for group in groups:
            container.seek(group.keyframe, stream=stream, backward=True)
            last = max(group.wanted)
            for packet in container.demux(stream):
                if stop.is_set():
                    return
                if packet.pts is not None and packet.pts > last:
                    break
                for frame in packet.decode():
                    if frame.pts in group.wanted:
                        image = frames._convert(frame, side, "rgb24")
                        yield SampledFrame(frame.time, image, frame, exact=False)
            yield GROUP_END
    except av.error.FFmpegError:
        return  # a damaged group: the frames read so far
    finally:
        container.close()
        del container
