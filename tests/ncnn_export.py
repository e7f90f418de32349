"""Ultralytics-style NCNN exports written by the tests: a folder ``*_ncnn_model``
with a small valid ncnn graph (an input and a 1x1 convolution), its weights and
a ``metadata.yaml`` naming the classes; and zips of them."""

from __future__ import annotations

from pathlib import Path
import struct
import zipfile

PARAM = (
    "7767517\n"
    "2 2\n"
    "Input in0 0 1 in0 0=4 1=4 2=3\n"
    "Convolution conv0 1 1 in0 out0 0=1 1=1 5=1 6=3\n"
)
# A float32 weight tag, three weights, one bias.
WEIGHTS = struct.pack("<I3ff", 0, 1.0, 1.0, 1.0, 0.5)


def metadata(names: list[str], imgsz: int = 320) -> str:
    """An Ultralytics metadata.yaml for ``names``."""
    lines = [f"  {index}: {name}" for index, name in enumerate(names)]
    return "\n".join(
        ["task: detect", "imgsz:", f"- {imgsz}", f"- {imgsz}", "names:", *lines, ""]
    )


def export(
    folder: Path, names: list[str], *, weights: bytes = WEIGHTS, imgsz: int = 320
) -> Path:
    """Write an export to ``folder`` (named ``*_ncnn_model``)."""
    folder.mkdir(parents=True)
    (folder / "model.ncnn.param").write_text(PARAM)
    (folder / "model.ncnn.bin").write_bytes(weights)
    (folder / "metadata.yaml").write_text(metadata(names, imgsz))
    return folder


def zipped(path: Path, entries: dict[str, bytes]) -> Path:
    """A zip holding ``entries`` (name -> content)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def export_entries(folder: str, names: list[str]) -> dict[str, bytes]:
    """The files of an export inside ``folder/`` of a zip."""
    return {
        f"{folder}/model.ncnn.param": PARAM.encode(),
        f"{folder}/model.ncnn.bin": WEIGHTS,
        f"{folder}/metadata.yaml": metadata(names).encode(),
        f"{folder}/model_ncnn.py": b"# written by Ultralytics, not needed\n",
    }
