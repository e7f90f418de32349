"""What a model file is: its format, class names and input size (blocking reads).

Used before a model is saved, so the user sees what it detects, and by the
backends that need the same facts. ONNX models are read through ONNX Runtime;
NCNN exports (Ultralytics ``format=ncnn``: a ``*_ncnn_model`` folder, or a
``.param`` file with its ``.bin``) through ncnn, with their ``metadata.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..errors import ModelFileError
from .rules import is_coco

NCNN_SUFFIX = "_ncnn_model"
NCNN_PARAM = "model.ncnn.param"
NCNN_BIN = "model.ncnn.bin"
NCNN_METADATA = "metadata.yaml"
NCNN_FILES = (NCNN_PARAM, NCNN_BIN, NCNN_METADATA)

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
    if path.name.endswith(NCNN_SUFFIX) or path.suffix.lower() == ".param":
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
    except ModelFileError as err:
        return ModelProblem("model_invalid", str(err))
    except Exception as err:  # noqa: BLE001 - ONNX Runtime's errors have no base
        return ModelProblem("model_invalid", f"ONNX Runtime refused it: {err}")
    names = model.names or {index: str(index) for index in range(model.classes)}
    return ModelInfo(format="onnx", names=names, imgsz=model.imgsz)


def _read_ncnn(path: Path) -> ModelInfo | ModelProblem:
    from .ncnn import NcnnModel  # noqa: PLC0415 - ncnn on demand

    try:
        model = NcnnModel(path, threads=1)
    except ImportError as err:
        return ModelProblem("model_invalid", f"ncnn is not installed: {err}")
    except ModelFileError as err:
        return ModelProblem("model_invalid", str(err))
    if not model.names:
        return ModelProblem("model_invalid", f"{path.name} names no classes")
    return ModelInfo(format="ncnn", names=model.names, imgsz=model.imgsz)
