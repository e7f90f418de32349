"""What a model file is: its format, class names and input size (blocking reads).

Used before a model is saved, so the user sees what it detects, and by the
backends that need the same facts. ONNX models are read through ONNX Runtime;
NCNN exports (Ultralytics ``format=ncnn``: a ``*_ncnn_model`` folder) through
their ``metadata.yaml`` and a parse of the param/bin pair, loaded by ncnn when
it is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import importlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .rules import is_coco

NCNN_SUFFIX = "_ncnn_model"
NCNN_PARAM = "model.ncnn.param"
NCNN_BIN = "model.ncnn.bin"
NCNN_METADATA = "metadata.yaml"
NCNN_FILES = (NCNN_PARAM, NCNN_BIN, NCNN_METADATA)
NCNN_MAGIC = "7767517"
MAX_METADATA_BYTES = 1 << 20

type ModelFormat = Literal["onnx", "ncnn", "pt"]
type ProblemReason = Literal["model_not_found", "model_invalid"]


class ModelInfo(BaseModel):
    """A loadable model: its format, class names by index and input size."""

    model_config = ConfigDict(frozen=True)

    format: ModelFormat
    names: dict[int, str]
    imgsz: int

    @property
    def labels(self) -> list[str]:
        """The class names in index order."""
        return [self.names[index] for index in sorted(self.names)]

    @property
    def coco(self) -> bool:
        """Whether the model detects COCO's 80 classes."""
        return is_coco(self.labels)


@dataclass(frozen=True, slots=True)
class ModelProblem:
    """Why a model cannot be used; ``reason`` is a form error key."""

    reason: ProblemReason
    detail: str


def model_format(path: Path) -> ModelFormat | None:
    """The format a model path names (by its name only, no I/O)."""
    if path.name.endswith(NCNN_SUFFIX):
        return "ncnn"
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix == ".pt":
        return "pt"
    return None


def read_model_info(path: Path) -> ModelInfo | ModelProblem:
    """Load an ONNX model or check an NCNN export, and describe it (blocking)."""
    kind = model_format(path)
    if not path.exists():
        return ModelProblem("model_not_found", f"{path.name} does not exist")
    readers: dict[str | None, Callable[[Path], ModelInfo | ModelProblem]] = {
        "onnx": _read_onnx,
        "ncnn": _read_ncnn,
    }
    reader = readers.get(kind)
    if reader is None:
        return ModelProblem(
            "model_invalid", f"{path.name} is not an .onnx file or an NCNN export"
        )
    return reader(path)


def _read_onnx(path: Path) -> ModelInfo | ModelProblem:
    from .onnx import OnnxModel  # noqa: PLC0415 - numpy and onnxruntime on demand

    if not path.is_file():
        return ModelProblem("model_invalid", f"{path.name} is not a file")
    try:
        model = OnnxModel(path, threads=1)
    except ImportError as err:
        return ModelProblem("model_invalid", f"ONNX Runtime is not installed: {err}")
    except Exception as err:  # noqa: BLE001 - ONNX Runtime's errors have no base
        return ModelProblem("model_invalid", f"ONNX Runtime refused it: {err}")
    names = model.names or {index: str(index) for index in range(model.classes)}
    return ModelInfo(format="onnx", names=names, imgsz=model.imgsz)


def _read_ncnn(folder: Path) -> ModelInfo | ModelProblem:
    if not folder.is_dir():
        return ModelProblem("model_invalid", f"{folder.name} is not a folder")
    missing = [name for name in NCNN_FILES if not (folder / name).is_file()]
    if missing:
        return ModelProblem(
            "model_invalid", f"{folder.name} lacks {', '.join(missing)}"
        )
    metadata = _ncnn_metadata(folder / NCNN_METADATA)
    if isinstance(metadata, ModelProblem):
        return metadata
    names, imgsz = metadata
    problem = _check_param(folder / NCNN_PARAM) or _load_ncnn(folder)
    if problem is not None:
        return problem
    return ModelInfo(format="ncnn", names=names, imgsz=imgsz)


def _ncnn_metadata(path: Path) -> tuple[dict[int, str], int] | ModelProblem:
    """Class names and input size from an Ultralytics ``metadata.yaml``."""
    if path.stat().st_size > MAX_METADATA_BYTES:
        return ModelProblem("model_invalid", f"{path.name} is too large")
    # PyYAML comes with Home Assistant; imported by name (it has no type stubs).
    yaml = importlib.import_module("yaml")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        return ModelProblem("model_invalid", f"{path.name} is not YAML: {err}")
    raw_names = data.get("names") if isinstance(data, dict) else None
    if isinstance(raw_names, list):
        raw_names = dict(enumerate(raw_names))
    if not isinstance(raw_names, dict) or not raw_names:
        return ModelProblem("model_invalid", f"{path.name} names no classes")
    try:
        names = {int(key): str(value) for key, value in raw_names.items()}
    except TypeError, ValueError:
        return ModelProblem("model_invalid", f"{path.name} has unreadable names")
    raw_size = data.get("imgsz", 640)
    size = raw_size[0] if isinstance(raw_size, list) and raw_size else raw_size
    if not isinstance(size, int) or not 32 <= size <= 4096:
        return ModelProblem("model_invalid", f"{path.name} has no usable imgsz")
    return names, size


def _check_param(path: Path) -> ModelProblem | None:
    """The param file starts with ncnn's magic number and its counts."""
    with path.open(encoding="utf-8", errors="replace") as param:
        magic = param.readline().strip()
        counts = param.readline().split()
    if magic != NCNN_MAGIC:
        return ModelProblem("model_invalid", f"{path.name} is not an ncnn param file")
    if len(counts) != 2 or not all(count.isdigit() for count in counts):
        return ModelProblem("model_invalid", f"{path.name} has no layer counts")
    return None


def _load_ncnn(folder: Path) -> ModelProblem | None:
    """Load the pair with ncnn when it is installed (non-zero: corrupt)."""
    try:
        ncnn = importlib.import_module("ncnn")  # optional, untyped
    except ImportError:
        return None
    net = ncnn.Net()
    try:
        if net.load_param(str(folder / NCNN_PARAM)) != 0:
            return ModelProblem("model_invalid", f"ncnn refused {NCNN_PARAM}")
        if net.load_model(str(folder / NCNN_BIN)) != 0:
            return ModelProblem("model_invalid", f"ncnn refused {NCNN_BIN}")
    finally:
        net.clear()
    return None
