"""What became of every submitted clip, counted per fault class."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
import os
from pathlib import Path

from custom_components.homesec.engine.models import (
    ClipEvent,
    ClipEventType,
    ClipState,
    ClipStatus,
    Stage,
    StageStatus,
)

from .chaos_clips import token_of
from .chaos_faults import FAULT_CLASSES, Interval

ARRIVALS = (
    "duplicate second",
    "concurrent arrival",
    "concurrent, 2nd Spool",
    "clock set back",
    "spool burst",
)
NO_FAULT = "no fault"


@dataclass
class Submitted:
    """One clip the bench handed to the hub, and what it saw of it."""

    token: str
    camera: str
    kind: str
    arrival: str
    at: float
    clip_id: str | None = None
    adopt_error: str | None = None
    refused: bool = False
    """Arrived while the disk guard had stopped recording: never adopted."""
    finished_at: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    """The fate of one clip at the end."""

    submitted: Submitted
    classes: set[str]
    stored_once: bool
    processed: bool
    alert_expected: bool
    delivered: int
    failed_recorded: int
    alert_missing: int
    duplicates: int
    lost: bool
    why: str
    retired: str | None = None
    """``retention`` or ``disk``: its stored copy was deleted once it was done."""


@dataclass
class Row:
    """Counts of one fault class."""

    submitted: int = 0
    stored_once: int = 0
    processed: int = 0
    alerts_expected: int = 0
    delivered: int = 0
    failed_recorded: int = 0
    alert_missing: int = 0
    duplicates: int = 0
    lost: int = 0
    retired_retention: int = 0
    retired_disk: int = 0
    refused: int = 0

    def add(self, v: Verdict) -> None:
        """Count one clip."""
        self.submitted += 1
        self.stored_once += v.stored_once
        self.processed += v.processed
        self.alerts_expected += v.alert_expected
        self.delivered += v.delivered
        self.failed_recorded += v.failed_recorded
        self.alert_missing += v.alert_missing
        self.duplicates += v.duplicates
        self.lost += v.lost
        self.retired_retention += v.retired == "retention"
        self.retired_disk += v.retired == "disk"
        self.refused += v.submitted.refused


def files_by_token(root: Path) -> dict[str, list[Path]]:
    """Every tagged clip file under ``root`` (one folder per camera), by token."""
    found: dict[str, list[Path]] = defaultdict(list)
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if entry.name.startswith(".") or not entry.is_file():
                continue
            token = token_of(Path(entry.path))
            if token is not None:
                found[token].append(Path(entry.path))
    return found


def classes_of(item: Submitted, intervals: list[Interval], end: float) -> set[str]:
    """The fault classes active while the clip was on its way, and its arrival's."""
    until = item.at if item.refused else item.finished_at or end
    found = {i.fault for i in intervals if i.start <= until and i.end >= item.at}
    if item.arrival != "normal":
        found.add(item.arrival)
    return found or {NO_FAULT}


def retired_by(
    state: ClipState | None, stored: list[Path], history: list[ClipEvent]
) -> str | None:
    """Why the clip's stored copy was rightly deleted (None: it was not).

    Rightly: retention or the disk guard recorded deleting the stored copy
    (``clip_deleted``, copy ``storage``) after the clip's history shows it
    uploaded and finished; its state no longer links a copy and says when it
    went; no file of it is left in the store. Any other vanished copy is lost.
    """
    if stored or state is None or not state.finished or not state.done(Stage.DETECT):
        return None
    if state.storage_uri is not None or state.storage_deleted_at is None:
        return None
    kinds = [event.event_type for event in history]
    for at, event in enumerate(history):
        if event.event_type is not ClipEventType.DELETED:
            continue
        if event.detail.get("copy") != "storage":
            continue
        before = kinds[:at]
        if ClipEventType.UPLOADED in before and ClipEventType.FINISHED in before:
            reason = str(event.detail.get("reason", ""))
            return "disk" if reason.startswith("disk") else "retention"
    return None


def judge(  # noqa: PLR0917 - one verdict from every observation
    item: Submitted,
    state: ClipState | None,
    spool: dict[str, list[Path]],
    store: dict[str, list[Path]],
    received: dict[str, Counter[str]],
    classes: set[str],
    history: list[ClipEvent],
) -> Verdict:
    """Lost, retired, stored once, processed, alerted: the clip's verdict.

    ``history`` is the clip's uploaded, finished and clip_deleted events, in
    the order they were recorded.
    """
    clip_id = item.clip_id
    spooled = [p for p in spool.get(item.token, []) if p.stem == clip_id]
    stored = store.get(item.token, [])
    pending = bool(spooled) and (state is None or not state.finished)
    detected = state is not None and state.done(Stage.DETECT)
    has_copy = bool(stored) and state is not None and state.storage_uri is not None
    retired = None if item.clip_id is None else retired_by(state, stored, history)
    # a retired clip was stored, and no copy of it is left: once
    stored_once = retired is not None or (
        len(stored) == 1 and stored[0].stem == clip_id
    )
    lost = not (pending or (has_copy and detected) or retired or item.refused)
    processed = (
        state is not None
        and state.status is ClipStatus.DONE
        and detected
        and (has_copy or retired is not None)
        and state.decision is not None
    )
    expected = (
        state is not None and state.decision is not None and state.decision.notify
    )
    delivered = failed = missing = duplicates = 0
    for name, counts in received.items():
        got = counts.get(clip_id or "", 0)
        duplicates += max(0, got - 1)
        if not expected:
            continue
        if got:
            delivered += 1
        elif (
            state is not None
            and name not in state.delivered
            and state.stages[Stage.NOTIFY].status is StageStatus.FAILED
        ):
            failed += 1
        else:
            missing += 1
    why = ", ".join(
        f"{k}={v}"
        for k, v in {
            "clip_id": clip_id,
            "adopt_error": item.adopt_error,
            "in_spool": [p.name for p in spool.get(item.token, [])],
            "in_store": [p.name for p in stored],
            "state": None if state is None else state.status.value,
            "stages": None
            if state is None
            else {s.value: st.status.value for s, st in state.stages.items()},
            "storage_uri": None if state is None else state.storage_uri,
            "alerts_received": {
                n: c.get(clip_id or "", 0) for n, c in received.items()
            },
            "recorded_delivered": None if state is None else state.delivered,
            "storage_deleted_at": None if state is None else state.storage_deleted_at,
        }.items()
    )
    return Verdict(
        item, classes, stored_once, processed, expected, delivered, failed,
        missing, duplicates, lost, why, retired,
    )  # fmt: skip


def table(verdicts: list[Verdict]) -> dict[str, Row]:
    """Rows per fault class (a clip counts in each class it met) and the total."""
    rows: dict[str, Row] = {name: Row() for name in (*FAULT_CLASSES, *ARRIVALS)}
    rows[NO_FAULT] = Row()
    total = Row()
    for verdict in verdicts:
        for name in verdict.classes:
            rows.setdefault(name, Row()).add(verdict)
        total.add(verdict)
    rows["TOTAL"] = total
    return rows


def print_table(rows: dict[str, Row]) -> None:
    """Print the per-class table."""
    head = (
        f"{'fault class':28} {'clips':>5} {'stored1x':>8} {'processed':>9} "
        f"{'alerts':>6} {'deliv.':>6} {'failed':>6} {'missing':>7} {'dup':>4} "
        f"{'lost':>4} {'ret.store':>9} {'ret.disk':>8} {'refused':>7}"
    )
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        print(
            f"{name:28} {r.submitted:5} {r.stored_once:8} {r.processed:9} "
            f"{r.alerts_expected:6} {r.delivered:6} {r.failed_recorded:6} "
            f"{r.alert_missing:7} {r.duplicates:4} {r.lost:4} "
            f"{r.retired_retention:9} {r.retired_disk:8} {r.refused:7}"
        )


def trace(
    verdict: Verdict, events: list[ClipEvent], intervals: list[Interval], t0: float
) -> list[str]:
    """The story of one clip: what the bench saw, the faults, its history."""
    item = verdict.submitted
    lines = [
        f"  clip {item.clip_id} (token {item.token}, {item.kind}, {item.arrival}, "
        f"camera {item.camera}, arrived t={item.at - t0:.2f}s)",
        f"    end: {verdict.why}",
    ]
    lines += [f"    bench: {note}" for note in item.notes]
    until = item.finished_at or float("inf")
    lines += [
        f"    fault t={i.start - t0:.2f}..{i.end - t0:.2f}s {i.fault} ({i.detail})"
        for i in intervals
        if i.start <= until and i.end >= item.at
    ][:12]
    lines += [
        f"    history {e.ts:%H:%M:%S.%f} {e.event_type.value} {e.detail}"
        for e in events
    ][:30]
    return lines
