"""Ultralytics-style NCNN exports written by the tests: a folder ``*_ncnn_model``
with a valid ncnn graph (the red-person head, scoring one class per name), its
weights and a ``metadata.yaml`` naming the classes; and zips of them."""

from __future__ import annotations

from pathlib import Path
import zipfile

from .red_person_ncnn import graph


def model_files(classes: int, imgsz: int = 320) -> tuple[str, bytes]:
    """The param text and weights of a head scoring ``classes`` classes."""
    layers = graph(size=imgsz, classes=classes)
    return layers.param(), bytes(layers.weights)


PARAM, WEIGHTS = model_files(1)
"""A one-class export's files, for tests that damage them."""


def metadata(names: list[str], imgsz: int = 320) -> str:
    """An Ultralytics metadata.yaml for ``names``."""
    lines = [f"  {index}: {name}" for index, name in enumerate(names)]
    return "\n".join(
        ["task: detect", "imgsz:", f"- {imgsz}", f"- {imgsz}", "names:", *lines, ""]
    )


def export(
    folder: Path,
    names: list[str],
    *,
    weights: bytes | None = None,
    imgsz: int = 320,
    classes: int | None = None,
) -> Path:
    """Write an export to ``folder`` (named ``*_ncnn_model``); its head scores
    ``classes`` classes (as many as ``names`` unless said)."""
    param, own_weights = model_files(len(names) if classes is None else classes, imgsz)
    folder.mkdir(parents=True)
    (folder / "model.ncnn.param").write_text(param)
    (folder / "model.ncnn.bin").write_bytes(own_weights if weights is None else weights)
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
    param, weights = model_files(len(names))
    return {
        f"{folder}/model.ncnn.param": param.encode(),
        f"{folder}/model.ncnn.bin": weights,
        f"{folder}/metadata.yaml": metadata(names).encode(),
        f"{folder}/model_ncnn.py": b"# written by Ultralytics, not needed\n",
    }
