"""The Python 3.11 side of ``remote.py``: real Ultralytics and PyTorch on a pipe.

Reads pickled requests from stdin and answers on the original stdout; what
Ultralytics prints goes to stderr. Plain values (None, bools, numbers, strings,
bytes, lists, tuples, dicts) and numpy arrays are sent by value, every other
object stays here and is sent as a reference. This file runs on Python 3.11:
keep its syntax to 3.11 (no ``type`` statements, no unparenthesized ``except``).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
import pickle
import sys
import traceback
import types
from typing import Any

import numpy as np

PLAIN = (type(None), bool, int, float, str, bytes)


def torchvision_stand_in() -> types.ModuleType:
    """A ``torchvision`` whose only part, ``ops.nms``, is Ultralytics' own NMS.

    Ultralytics imports torchvision before its first prediction; PyPI's
    torchvision is built against CUDA PyTorch and does not load next to the CPU
    build. The environment carries torchvision's version metadata only.
    """

    def nms(boxes: Any, scores: Any, iou_threshold: float) -> Any:
        from ultralytics.utils.nms import TorchNMS  # noqa: PLC0415

        return TorchNMS.nms(boxes, scores, iou_threshold)

    module = types.ModuleType("torchvision")
    module.__version__ = "0.28.0"  # type: ignore[attr-defined]
    module.ops = types.SimpleNamespace(nms=nms)  # type: ignore[attr-defined]
    return module


class Server:
    """Objects handed out by reference, and the requests on them."""

    def __init__(self) -> None:
        """No objects yet."""
        self.objects: dict[int, Any] = {}

    def encode(self, value: Any) -> Any:
        """Plain values and arrays as they are, anything else as a reference."""
        if type(value) in PLAIN:
            return value
        if type(value) in (list, tuple):
            return (type(value).__name__, [self.encode(v) for v in value])
        if type(value) is dict:
            return (
                "dict",
                [(self.encode(k), self.encode(v)) for k, v in value.items()],
            )
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            return ("array", array.dtype.str, array.shape, array.tobytes())
        self.objects[id(value)] = value
        return ("ref", id(value), type(value).__qualname__)

    def decode(self, value: Any) -> Any:
        """The inverse of the client's encoding."""
        if type(value) is not tuple:
            return value
        tag, *rest = value
        if tag == "ref":
            return self.objects[rest[0]]
        if tag == "array":
            dtype, shape, data = rest
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if tag == "path":
            return Path(rest[0])
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in rest[0]}
        items = [self.decode(v) for v in rest[0]]
        return items if tag == "list" else tuple(items)

    def handle(self, request: tuple[Any, ...]) -> Any:
        """Run one request and return its encoded result."""
        op, *args = request
        if op == "module":
            name, attribute = args
            return self.encode(getattr(importlib.import_module(name), attribute))
        target = self.objects[args[0]]
        if op == "getattr":
            return self.encode(getattr(target, args[1]))
        if op == "call":
            call_args = [self.decode(a) for a in args[1]]
            kwargs = {k: self.decode(v) for k, v in args[2].items()}
            return self.encode(target(*call_args, **kwargs))
        if op == "getitem":
            return self.encode(target[self.decode(args[1])])
        if op == "len":
            return len(target)
        if op == "list":
            return self.encode(list(target))
        raise ValueError(f"unknown request {op!r}")


def main() -> None:
    """Answer requests until stdin closes."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # Ultralytics prints: keep it off the reply pipe
    sys.modules["torchvision"] = torchvision_stand_in()
    requests = sys.stdin.buffer
    server = Server()
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = ("ok", server.handle(request))
        except Exception:  # noqa: BLE001 - sent to the caller, raised there
            reply = ("error", traceback.format_exc())
        pickle.dump(reply, replies, protocol=4)
        replies.flush()


if __name__ == "__main__":
    main()
