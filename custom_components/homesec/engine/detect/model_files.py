"""Model files under the config dir: finding them and storing uploaded ones.

Uploads are an ``.onnx`` or ``.pt`` file, or a zipped NCNN export (the
``*_ncnn_model`` folder Ultralytics writes). Zips come from users' browsers and
are treated as hostile: no absolute paths, ``..``, links or devices, a bounded
number of entries and uncompressed size, and only the export's own files are
extracted. Everything here blocks: run it in an executor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import os
from pathlib import Path, PurePosixPath
import re
import shutil
import stat
from typing import Literal
import uuid
import zipfile

from .model_info import NCNN_FILES, NCNN_PARAM, NCNN_SUFFIX, ModelFormat, model_format

MODELS_FOLDER = "homesec/models"
MAX_LISTED = 100
MAX_VISITED = 2000
MAX_DEPTH = 3
MAX_ZIP_ENTRIES = 32
MAX_MODEL_BYTES = 512 << 20
CHUNK = 1 << 20
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

type UploadReason = Literal[
    "upload_not_model", "upload_unsafe", "upload_too_big", "upload_wrong_format"
]


@dataclass(frozen=True, slots=True)
class UploadProblem:
    """Why an upload was refused; ``reason`` is a form error key."""

    reason: UploadReason
    detail: str


def find_models(config_dir: Path, formats: tuple[ModelFormat, ...]) -> list[str]:
    """Models of ``formats`` under ``<config>/homesec/models`` and the config dir.

    Paths are relative to the config dir. The walk is bounded in depth and in
    entries visited, and does not follow links to folders.
    """
    found: list[str] = []
    roots = ((config_dir / MODELS_FOLDER, MAX_DEPTH), (config_dir, 1))
    visited = 0
    for root, depth in roots:
        for path in _walk(root, depth):
            visited += 1
            if visited > MAX_VISITED or len(found) >= MAX_LISTED:
                return sorted(found)
            if model_format(path) in formats and _complete(path):
                found.append(path.relative_to(config_dir).as_posix())
    return sorted(set(found))


def _walk(root: Path, depth: int) -> Iterator[Path]:
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in sorted(entries, key=lambda item: item.name):
        path = Path(entry.path)
        yield path
        folder = entry.is_dir(follow_symlinks=False)
        if folder and depth > 1 and not entry.name.endswith(NCNN_SUFFIX):
            yield from _walk(path, depth - 1)


def _complete(path: Path) -> bool:
    """A model file, or an NCNN folder holding its param file."""
    if path.name.endswith(NCNN_SUFFIX):
        return (path / NCNN_PARAM).is_file()
    return path.is_file()


def store_upload(
    upload: Path, models_dir: Path, formats: tuple[ModelFormat, ...]
) -> Path | UploadProblem:
    """Keep an uploaded model under ``models_dir``; return where it went.

    ``upload`` keeps its original name (``.onnx``, ``.pt`` or ``.zip``). An
    existing model is never replaced: a new name is chosen instead.
    """
    suffix = upload.suffix.lower()
    stem = _safe(upload.stem)
    if suffix == ".zip":
        if "ncnn" not in formats:
            return UploadProblem("upload_wrong_format", "zipped NCNN export")
        return _store_ncnn_zip(upload, models_dir, stem)
    kind = model_format(upload)
    if kind is None or kind == "ncnn":
        return UploadProblem("upload_not_model", f"{upload.name} is not a model")
    if kind not in formats:
        return UploadProblem("upload_wrong_format", upload.name)
    if upload.stat().st_size > MAX_MODEL_BYTES:
        return UploadProblem("upload_too_big", f"{upload.name} is too large")
    models_dir.mkdir(parents=True, exist_ok=True)
    target = _free(models_dir, stem, suffix)
    shutil.copyfile(upload, target)
    return target


def discard(path: Path) -> None:
    """Remove a stored upload that turned out unusable."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _store_ncnn_zip(upload: Path, models_dir: Path, stem: str) -> Path | UploadProblem:
    try:
        with zipfile.ZipFile(upload) as archive:
            members = _ncnn_members(archive)
            if isinstance(members, UploadProblem):
                return members
            folder, chosen = members
            name = _safe(folder or stem).removesuffix(NCNN_SUFFIX) or "model"
            models_dir.mkdir(parents=True, exist_ok=True)
            staging = models_dir / f".upload-{uuid.uuid4().hex}"
            staging.mkdir()
            try:
                problem = _extract(archive, chosen, staging)
                if problem is not None:
                    return problem
                target = _free(models_dir, name, NCNN_SUFFIX)
                staging.rename(target)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as err:
        return UploadProblem("upload_not_model", f"not a readable zip file: {err}")
    return target


def _ncnn_members(
    archive: zipfile.ZipFile,
) -> tuple[str, dict[str, zipfile.ZipInfo]] | UploadProblem:
    """The export's files, once every entry of the archive was checked."""
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        return UploadProblem("upload_unsafe", f"{len(entries)} entries")
    chosen: dict[str, zipfile.ZipInfo] = {}
    folders: set[str] = set()
    for info in entries:
        problem = _unsafe(info)
        if problem is not None:
            return UploadProblem("upload_unsafe", problem)
        path = PurePosixPath(info.filename)
        if info.is_dir() or path.name not in NCNN_FILES:
            continue
        if len(path.parts) > 2 or path.name in chosen:
            return UploadProblem("upload_unsafe", f"unexpected {info.filename}")
        chosen[path.name] = info
        folders.add(path.parts[0] if len(path.parts) == 2 else "")
    missing = [name for name in NCNN_FILES if name not in chosen]
    if missing:
        return UploadProblem("upload_not_model", f"lacks {', '.join(missing)}")
    if len(folders) != 1:
        return UploadProblem("upload_unsafe", "the export's files are scattered")
    if sum(info.file_size for info in chosen.values()) > MAX_MODEL_BYTES:
        return UploadProblem("upload_too_big", "uncompressed size")
    return folders.pop(), chosen


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    """Why an archive entry may not be extracted, or None."""
    name = info.filename
    path = PurePosixPath(name)
    if "\\" in name or "\0" in name or path.is_absolute() or ":" in name:
        return f"path {name!r}"
    if ".." in path.parts:
        return f"path {name!r}"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"{name!r} is a link or a device"
    return None


def _extract(
    archive: zipfile.ZipFile, chosen: dict[str, zipfile.ZipInfo], folder: Path
) -> UploadProblem | None:
    """Write the chosen entries, counting the bytes actually inflated."""
    written = 0
    for name, info in chosen.items():
        with archive.open(info) as source, (folder / name).open("wb") as target:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > MAX_MODEL_BYTES:
                    return UploadProblem("upload_too_big", "uncompressed size")
                target.write(chunk)
    return None


def _safe(name: str) -> str:
    """A file name made of letters, digits, dots, dashes and underscores."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip("._") or "model"
    return cleaned[:80]


def _free(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem+suffix``, numbered when that name is taken."""
    target = folder / f"{stem}{suffix}"
    number = 2
    while target.exists() or target.is_symlink():
        target = folder / f"{stem}-{number}{suffix}"
        number += 1
    return target
