"""Real Ultralytics and PyTorch for HomeSec's backend, across interpreters.

HomeSec runs on Python 3.14, for which no CPU build of PyTorch can be had here
(PyPI's Linux torch is a multi-GB CUDA build); a CPU wheel exists for Python
3.11. So the real ``torch`` and ``ultralytics`` run in a Python 3.11 child
process (``remote_server.py``), and ``install`` puts stand-in modules of those
names into ``sys.modules``: every attribute, call, item and length on them and on
what they return is forwarded to the child. HomeSec's backend runs unchanged:
its imports, ``torch.set_num_threads``, ``YOLO(path)``, ``predict``, the
``Results`` it reads and ``export`` all reach Ultralytics' real objects. Plain
values and numpy arrays cross the pipe by value; everything else stays in the
child and is used through a reference.

The child starts when HomeSec first touches ``torch`` or ``ultralytics``, with
the environment of that moment, as a first import would in Home Assistant.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import pickle
import subprocess
import threading
import types
from typing import IO, Any

import numpy as np

SERVER = Path(__file__).with_name("remote_server.py")
# The Python 3.11 environment's interpreter, set by script/test_ultralytics.
ULTRALYTICS_PYTHON = os.environ.get("HOMESEC_ULTRALYTICS_PYTHON", "")
PLAIN = (type(None), bool, int, float, str, bytes)


class RemoteError(Exception):
    """The child raised: its traceback is the message."""


class Child:
    """The Python 3.11 process holding the real modules."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        """Start ``python`` on first use, with ``env`` over the environment."""
        self._python = python
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.started_with: dict[str, str] | None = None
        self.attributes_read: list[str] = []

    def _start(self) -> subprocess.Popen[bytes]:
        self.started_with = os.environ | self._env
        return subprocess.Popen(
            [self._python, str(SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self.started_with,
        )

    def request(self, *message: Any) -> Any:
        """Send one request and decode its answer."""
        with self._lock:
            if message[0] == "getattr":
                self.attributes_read.append(message[2])
            if self._proc is None:
                self._proc = self._start()
            stdin, stdout = self._pipes()
            pickle.dump(message, stdin, protocol=4)
            stdin.flush()
            try:
                status, payload = pickle.load(stdout)
            except EOFError:
                code = self._proc.wait()
                raise RemoteError(
                    f"the Python 3.11 process ended (exit {code})"
                ) from None
        if status == "error":
            raise RemoteError(payload)
        return self.decode(payload)

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        assert self._proc is not None
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        return self._proc.stdin, self._proc.stdout

    def encode(self, value: Any) -> Any:
        """An argument as the child decodes it."""
        if type(value) in PLAIN:
            return value
        if isinstance(value, RemoteObject):
            return ("ref", value._ref)
        if isinstance(value, Path):
            return ("path", str(value))
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
        raise TypeError(f"cannot send a {type(value).__name__} to the child")

    def decode(self, value: Any) -> Any:
        """An answer from the child: plain values, arrays and references."""
        if type(value) is not tuple:
            return value
        tag, *rest = value
        if tag == "ref":
            return RemoteObject(self, rest[0], rest[1])
        if tag == "array":
            dtype, shape, data = rest
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in rest[0]}
        items = [self.decode(v) for v in rest[0]]
        return items if tag == "list" else tuple(items)

    def close(self) -> int | None:
        """End the child (it exits when its input closes); its exit code."""
        if self._proc is None:
            return None
        stdin, stdout = self._pipes()
        stdin.close()
        code = self._proc.wait(timeout=60)
        stdout.close()
        return code


class RemoteObject:
    """An object living in the child."""

    def __init__(self, child: Child, ref: int, type_name: str) -> None:
        """A reference handed out by the child."""
        self._child = child
        self._ref = ref
        self._type_name = type_name

    def __getattr__(self, name: str) -> Any:
        """The child's attribute (dunder probes are not forwarded)."""
        if name.startswith("__"):
            raise AttributeError(name)
        return self._child.request("getattr", self._ref, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call it in the child."""
        encode = self._child.encode
        return self._child.request(
            "call",
            self._ref,
            [encode(a) for a in args],
            {k: encode(v) for k, v in kwargs.items()},
        )

    def __getitem__(self, key: Any) -> Any:
        """Index it in the child."""
        return self._child.request("getitem", self._ref, self._child.encode(key))

    def __len__(self) -> int:
        """Its length in the child."""
        return int(self._child.request("len", self._ref))

    def __iter__(self) -> Iterator[Any]:
        """Its items, listed in the child."""
        return iter(self._child.request("list", self._ref))

    def __repr__(self) -> str:
        """Which remote type this is."""
        return f"<remote {self._type_name}>"


class RemoteModule(types.ModuleType):
    """A stand-in for a module of the child: attributes come from there."""

    def __init__(self, child: Child, name: str) -> None:
        """Forward ``name``'s attributes to the child."""
        super().__init__(name, f"The child's {name}, over a pipe.")
        self._child = child

    def __getattr__(self, attribute: str) -> Any:
        """The child's ``module.attribute`` (dunder probes are not forwarded)."""
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return self._child.request("module", self.__name__, attribute)


def modules(child: Child) -> dict[str, RemoteModule]:
    """Stand-ins for ``torch`` and ``ultralytics``, for ``sys.modules``."""
    return {name: RemoteModule(child, name) for name in ("torch", "ultralytics")}
