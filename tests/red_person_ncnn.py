"""The red-person model as an ncnn graph, written as param text and bin weights.

Like ``red_person_model``'s ONNX graph it sees a "person" (or the class at
``label``) wherever the frame is red, as a YOLO head of ``4 + classes`` rows:
anchor 0 boxes the red pixels with score 0.9, anchor 1 repeats the box with
score 0.6 (non-maximum suppression must drop it).
"""

from __future__ import annotations

from pathlib import Path
import struct

import numpy as np
import yaml

from custom_components.homesec.engine.detect.yolo import COCO80

SIZE = 160
MAGIC = "7767517"


class _Graph:
    """ncnn layers in order, with Split layers added for shared blobs."""

    def __init__(self) -> None:
        self.layers: list[tuple[str, list[str], list[str], str]] = []
        self.weights = bytearray()

    def add(
        self,
        kind: str,
        bottoms: list[str],
        top: str,
        params: str = "",
        data: bytes = b"",
    ) -> str:
        self.layers.append((kind, bottoms, [top], params))
        self.weights += data
        return top

    def const(self, top: str, values: np.ndarray) -> str:
        return self.add("MemoryData", [], top, f"0={values.size}", _f32(values))

    def op(self, top: str, kind: int, a: str, b: str | float) -> str:
        """BinaryOp (0 add, 1 sub, 2 mul, 7 reversed sub) of a blob and b."""
        if isinstance(b, str):
            return self.add("BinaryOp", [a, b], top, f"0={kind}")
        return self.add("BinaryOp", [a], top, f"0={kind} 1=1 2={b}")

    def param(self) -> str:
        consumers: dict[str, int] = {}
        for _, bottoms, _, _ in self.layers:
            for blob in bottoms:
                consumers[blob] = consumers.get(blob, 0) + 1
        used: dict[str, int] = {}
        lines = []
        for index, (kind, bottoms, tops, params) in enumerate(self.layers):
            renamed = []
            for blob in bottoms:
                copy = used[blob] = used.get(blob, 0) + 1
                renamed.append(f"{blob}_{copy - 1}" if consumers[blob] > 1 else blob)
            lines.append(_line(kind, f"l{index}", renamed, tops, params))
            for blob in tops:
                if consumers.get(blob, 0) > 1:
                    copies = [f"{blob}_{i}" for i in range(consumers[blob])]
                    lines.append(_line("Split", f"s{index}", [blob], copies, ""))
        blobs = {b for line in lines for b in line.split()[4:] if "=" not in b}
        return "\n".join([MAGIC, f"{len(lines)} {len(blobs)}", *lines]) + "\n"


def _line(
    kind: str, name: str, bottoms: list[str], tops: list[str], params: str
) -> str:
    blobs = " ".join([*bottoms, *tops])
    return f"{kind} {name} {len(bottoms)} {len(tops)} {blobs} {params}".rstrip()


def _f32(values: np.ndarray | list[float]) -> bytes:
    return np.asarray(values, dtype="<f4").tobytes()


def graph(
    size: int = SIZE, classes: int = len(COCO80), label: int = 0,
    blobs: tuple[str, str] = ("in0", "out0"),
) -> _Graph:  # fmt: skip
    """The layers and weights of the red-person head."""
    g = _Graph()
    g.add("Input", [], blobs[0], f"0={size} 1={size} 2=3")
    # redness = r - (g + b) / 2 - 0.35, scaled so that red pixels clip to 1
    weights = struct.pack("<I", 0) + _f32([1000, -500, -500]) + _f32([-350])
    g.add("Convolution", [blobs[0]], "redness", "0=1 1=1 5=1 6=3", weights)
    g.add("Clip", ["redness"], "mask", "0=0.0 1=1.0")
    # rows: is any pixel of row y red? (max over channel and width); cols alike
    g.add("Reduction", ["mask"], "rows", "0=4 1=0 -23303=2,0,2 4=0 5=1")
    g.add("Reduction", ["mask"], "cols", "0=4 1=0 -23303=2,0,1 4=0 5=1")
    g.add("Reduction", ["mask"], "any", "0=4 1=1 4=0")
    ramp = np.arange(size, dtype=np.float32)
    g.const("up", ramp + 1)
    g.const("down", size - ramp)
    edges = {}
    for axis in ("rows", "cols"):
        g.op(f"{axis}_up", 2, axis, "up")
        g.op(f"{axis}_down", 2, axis, "down")
        g.add("Reduction", [f"{axis}_up"], f"{axis}_last", "0=4 1=1 4=0")
        g.add("Reduction", [f"{axis}_down"], f"{axis}_first_d", "0=4 1=1 4=0")
        first = g.op(f"{axis}_first", 7, f"{axis}_first_d", float(size))
        edges[axis] = (first, f"{axis}_last")
    (y1, y2), (x1, x2) = edges["rows"], edges["cols"]
    g.op("cx", 2, g.op("xs", 0, x1, x2), 0.5)
    g.op("cy", 2, g.op("ys", 0, y1, y2), 0.5)
    g.op("w", 1, x2, x1)
    g.op("h", 1, y2, y1)
    columns = []
    for anchor, score in enumerate((0.9, 0.6)):
        pieces = ["cx", "cy", "w", "h"]
        if label:
            pieces.append(g.const(f"before{anchor}", np.zeros(label, np.float32)))
        pieces.append(g.op(f"conf{anchor}", 2, "any", score))
        if classes - label - 1:
            after = np.zeros(classes - label - 1, np.float32)
            pieces.append(g.const(f"after{anchor}", after))
        g.add("Concat", pieces, f"flat{anchor}", "0=0")
        columns.append(g.add("Reshape", [f"flat{anchor}"], f"col{anchor}",
                             f"0=1 1={4 + classes}"))  # fmt: skip
    g.add("Concat", columns, blobs[1], "0=1")
    return g


def build(
    folder: Path,
    *,
    names: list[str] | None = None,
    label: int = 0,
    metadata: bool = True,
    blobs: tuple[str, str] = ("in0", "out0"),
) -> Path:
    """Write the model as an Ultralytics export folder (``metadata``: with its
    ``metadata.yaml``), or as ``red.param``/``red.bin``; return the path to give
    the backend (the folder, or the ``.param`` file)."""
    names = COCO80 if names is None else names
    g = graph(classes=len(names), label=label, blobs=blobs)
    folder.mkdir(parents=True, exist_ok=True)
    stem = "model.ncnn" if metadata else "red"
    (folder / f"{stem}.param").write_text(g.param())
    (folder / f"{stem}.bin").write_bytes(bytes(g.weights))
    if not metadata:
        return folder / f"{stem}.param"
    info = {
        "description": "red person",
        "task": "detect",
        "batch": 1,
        "imgsz": [SIZE, SIZE],
        "names": dict(enumerate(names)),
    }
    (folder / "metadata.yaml").write_text(yaml.safe_dump(info, sort_keys=False))
    return folder
