"""What live detection told of clips still being recorded, kept for their run.

The first live finding of a clip tells the outputs at once (the quick phone
notification, the detection event, the entities); the clip's run later takes
what was told (``claim``), so it tells nothing twice, reuses the live hits
when they satisfied the rules, and its alert replaces the quick word (or its
end clears it).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from .clip_history import ClipHistory
from .models import Clip, ClipDetected, FilterResult
from .outputs import Outputs
from .snapshots import SnapshotKeeper

KEPT = 64
"""Clips remembered (live findings and clips already claimed), oldest dropped."""


@dataclass(slots=True)
class LiveFinding:
    """What live detection told of one clip."""

    told: asyncio.Task[None]
    """The outputs hearing of it (awaited before the clip's alert)."""
    settled: FilterResult | None = None
    """The live hits, once they satisfied the rules (the clip is not scanned)."""


class LiveLedger:
    """Live findings by clip id, until the clip's run claims them."""

    def __init__(
        self, outputs: Outputs, history: ClipHistory, snapshots: SnapshotKeeper | None
    ) -> None:
        """Tell ``outputs`` and ``history``; keep snapshots in ``snapshots``."""
        self._outputs = outputs
        self._history = history
        self._snapshots = snapshots
        self._found: OrderedDict[str, LiveFinding] = OrderedDict()
        self._claimed: OrderedDict[str, None] = OrderedDict()

    async def detected(
        self, clip: Clip, result: FilterResult, *, settled: bool
    ) -> None:
        """Tell everyone of a clip still recording (once; not after its run began)."""
        clip_id = clip.clip_id
        if clip_id in self._claimed or clip_id in self._found:
            return
        if result.snapshot_jpeg and self._snapshots is not None:
            await self._snapshots.keep(clip_id, result.snapshot_jpeg)
        if clip_id in self._claimed or clip_id in self._found:
            return  # the clip's run began meanwhile: it tells
        self._history.emit(ClipDetected(clip=clip, result=result))
        told = asyncio.create_task(
            self._outputs.tell(lambda n: n.detected(clip, result))
        )
        self._found[clip_id] = LiveFinding(told, result if settled else None)
        while len(self._found) > KEPT:
            self._found.popitem(last=False)

    def settled(self, clip: Clip, result: FilterResult) -> None:
        """The live hits of a told clip satisfy its rules now."""
        finding = self._found.get(clip.clip_id)
        if finding is not None:
            finding.settled = result

    def claim(self, clip_id: str) -> LiveFinding | None:
        """The clip's run starts: what live detection told of it, if anything."""
        self._claimed[clip_id] = None
        while len(self._claimed) > KEPT:
            self._claimed.popitem(last=False)
        return self._found.pop(clip_id, None)
