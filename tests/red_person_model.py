"""A YOLO-format ONNX model, built with the onnx package, that sees a "person"
wherever the frame is red: its output is one anchor [cx, cy, w, h, a score per
class (COCO's 80 or the names given)] boxing the red pixels, with score 0.9 for
class 0 when there are any."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from custom_components.homesec.engine.detect.coco import COCO80

SIZE = 160


def _const(name: str, value: np.ndarray) -> onnx.NodeProto:
    return helper.make_node(
        "Constant", [], [name], value=numpy_helper.from_array(value, name)
    )


def build(path: Path, size: int = SIZE, names: dict[int, str] | None = None) -> Path:
    """Write the model to ``path``; ``names`` replace COCO's (its metadata names
    them, its head scores as many classes).

    Class 0 is what it sees in red: with ``names={0: "package"}`` it is a
    custom model that finds packages.
    """
    names = names if names is not None else dict(enumerate(COCO80))
    rows = 4 + len(names)
    ar = np.arange(size, dtype=np.float32)
    nodes = [
        _const("i0", np.array(0, dtype=np.int64)),
        _const("i1", np.array(1, dtype=np.int64)),
        _const("i2", np.array(2, dtype=np.int64)),
        _const("half", np.array(0.5, dtype=np.float32)),
        _const("thr", np.array(0.35, dtype=np.float32)),
        _const("score", np.array(0.9, dtype=np.float32)),
        _const("size", np.array([size], dtype=np.float32)),
        _const("up", ar + 1),
        _const("down", size - ar),
        _const("zeros", np.zeros(len(names) - 1, dtype=np.float32)),
        _const("shape", np.array([1, rows, 1], dtype=np.int64)),
        helper.make_node("Gather", ["images", "i0"], ["r"], axis=1),
        helper.make_node("Gather", ["images", "i1"], ["g"], axis=1),
        helper.make_node("Gather", ["images", "i2"], ["b"], axis=1),
        helper.make_node("Add", ["g", "b"], ["gb"]),
        helper.make_node("Mul", ["gb", "half"], ["gb2"]),
        helper.make_node("Sub", ["r", "gb2"], ["red"]),
        helper.make_node("Greater", ["red", "thr"], ["maskb"]),
        helper.make_node("Cast", ["maskb"], ["mask"], to=TensorProto.FLOAT),
        # rows: is any pixel of row y red? [1, size]; cols likewise for x
        helper.make_node("ReduceMax", ["mask"], ["rows"], axes=[2], keepdims=0),
        helper.make_node("ReduceMax", ["mask"], ["cols"], axes=[1], keepdims=0),
        helper.make_node("Mul", ["rows", "up"], ["rows_up"]),
        helper.make_node("Mul", ["rows", "down"], ["rows_down"]),
        helper.make_node("Mul", ["cols", "up"], ["cols_up"]),
        helper.make_node("Mul", ["cols", "down"], ["cols_down"]),
        helper.make_node("ReduceMax", ["rows_up"], ["y2"], axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["rows_down"], ["y1d"], axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["cols_up"], ["x2"], axes=[1], keepdims=0),
        helper.make_node("ReduceMax", ["cols_down"], ["x1d"], axes=[1], keepdims=0),
        helper.make_node("Sub", ["size", "y1d"], ["y1"]),
        helper.make_node("Sub", ["size", "x1d"], ["x1"]),
        helper.make_node("Add", ["x1", "x2"], ["xs"]),
        helper.make_node("Mul", ["xs", "half"], ["cx"]),
        helper.make_node("Add", ["y1", "y2"], ["ys"]),
        helper.make_node("Mul", ["ys", "half"], ["cy"]),
        helper.make_node("Sub", ["x2", "x1"], ["w"]),
        helper.make_node("Sub", ["y2", "y1"], ["h"]),
        helper.make_node("ReduceMax", ["mask"], ["any"], keepdims=0),
        helper.make_node("Mul", ["any", "score"], ["conf0"]),
        helper.make_node("Reshape", ["conf0", "i1s"], ["conf"]),
        helper.make_node(
            "Concat",
            ["cx", "cy", "w", "h", "conf", *(["zeros"] if len(names) > 1 else [])],
            ["flat"],
            axis=0,
        ),
        helper.make_node("Reshape", ["flat", "shape"], ["output0"]),
    ]
    nodes.insert(0, _const("i1s", np.array([1], dtype=np.int64)))
    graph = helper.make_graph(
        nodes,
        "red_person",
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, [1, 3, size, size]
            )
        ],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, rows, 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"names": str(names), "task": "detect"}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
