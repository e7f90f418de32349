"""Model files: what a model detects, finding models, storing uploads safely."""

from __future__ import annotations

from pathlib import Path
import stat
import zipfile

import onnx
import pytest

from custom_components.homesec.engine.detect import model_files
from custom_components.homesec.engine.detect.coco import COCO80
from custom_components.homesec.engine.detect.model_files import (
    UploadProblem,
    find_models,
    store_upload,
)
from custom_components.homesec.engine.detect.model_info import (
    ModelInfo,
    ModelProblem,
    read_model_info,
)

from .ncnn_export import PARAM, WEIGHTS, export, export_entries, zipped
from .red_person_model import build as build_red_person_model


def test_onnx_models_are_described_with_their_own_names(
    red_model: Path, tmp_path: Path
) -> None:
    """A COCO model and a custom one give their class names and input size."""
    # Given the red-person model, and the same graph naming its class "package"
    custom = build_red_person_model(tmp_path / "package.onnx", names={0: "package"})

    # When both are read
    coco = read_model_info(red_model)
    package = read_model_info(custom)

    # Then each says what it detects and at which size
    assert isinstance(coco, ModelInfo)
    assert (coco.format, coco.imgsz, coco.labels, coco.coco) == (
        "onnx",
        160,
        COCO80,
        True,
    )
    assert isinstance(package, ModelInfo)
    assert (package.labels, package.coco) == (["package"], False)


def test_ncnn_exports_are_described_and_checked(tmp_path: Path) -> None:
    """An export's names and size come from metadata.yaml; broken pairs fail."""
    # Given a good export, one with truncated weights, one with a bad param
    # file and one whose metadata names nothing
    good = export(tmp_path / "porch_ncnn_model", ["package", "fall"])
    short = export(tmp_path / "short_ncnn_model", ["package"], weights=WEIGHTS[:6])
    bad = export(tmp_path / "bad_ncnn_model", ["package"])
    (bad / "model.ncnn.param").write_text(PARAM.replace("7767517", "1234"))
    unnamed = export(tmp_path / "unnamed_ncnn_model", [], classes=1)

    # When each is read
    read = {path.name: read_model_info(path) for path in (good, short, bad, unnamed)}

    # Then the good one is described, the others refused as invalid
    assert read["porch_ncnn_model"] == ModelInfo(
        format="ncnn", names={0: "package", 1: "fall"}, imgsz=320
    )
    for name in ("short_ncnn_model", "bad_ncnn_model", "unnamed_ncnn_model"):
        problem = read[name]
        assert isinstance(problem, ModelProblem), name
        assert problem.reason == "model_invalid"


def test_metadata_of_another_model_is_refused(tmp_path: Path) -> None:
    """Names that do not match the classes the model scores are refused."""
    # Given an NCNN export whose metadata names 2 classes for an 80-class head,
    # and an ONNX model finding packages whose metadata was given 2 names
    ncnn = export(tmp_path / "mixed_ncnn_model", ["package", "fall"], classes=80)
    onnx_path = build_red_person_model(tmp_path / "mixed.onnx", names={0: "package"})
    model = onnx.load(str(onnx_path))
    for prop in model.metadata_props:
        if prop.key == "names":
            prop.value = str({0: "package", 1: "fall"})
    onnx.save(model, str(onnx_path))

    # When each is read
    problems = [read_model_info(ncnn), read_model_info(onnx_path)]

    # Then each is refused, saying what does not match
    details = []
    for problem in problems:
        assert isinstance(problem, ModelProblem)
        assert problem.reason == "model_invalid"
        details.append(problem.detail)
    assert details == [
        "its metadata names 2 classes but the model scores 80 "
        "(export it again with Ultralytics)",
        "its metadata names 2 classes but the model scores 1 "
        "(export it again with Ultralytics)",
    ]


def test_missing_or_unknown_files_are_not_models(tmp_path: Path) -> None:
    """No file, or a file of another kind, is a problem, not an exception."""
    # Given a missing path and a text file
    (tmp_path / "notes.txt").write_text("hello")

    # When they are read
    missing = read_model_info(tmp_path / "gone.onnx")
    other = read_model_info(tmp_path / "notes.txt")
    corrupt_path = tmp_path / "corrupt.onnx"
    corrupt_path.write_bytes(b"\x08\x01garbage")
    corrupt = read_model_info(corrupt_path)

    # Then each says why
    assert isinstance(missing, ModelProblem)
    assert missing.reason == "model_not_found"
    assert isinstance(other, ModelProblem)
    assert other.reason == "model_invalid"
    assert isinstance(corrupt, ModelProblem)
    assert corrupt.reason == "model_invalid"


def test_models_are_found_under_the_config_dir(tmp_path: Path) -> None:
    """The models folder (a few levels deep) and the config dir's top are listed."""
    # Given models in the models folder, at the top, deeper elsewhere, a
    # folder link looping back, and other files
    models = tmp_path / "homesec" / "models"
    (models / "garden").mkdir(parents=True)
    (models / "garden" / "birds.onnx").write_bytes(b"x")
    export(models / "porch_ncnn_model", ["package"])
    (tmp_path / "top.onnx").write_bytes(b"x")
    export(tmp_path / "yard_ncnn_model", ["fall"])
    (tmp_path / "deep" / "deeper").mkdir(parents=True)
    (tmp_path / "deep" / "deeper" / "hidden.onnx").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    (models / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "empty_ncnn_model").mkdir()

    # When models are listed for an onnx-only and an all-formats backend
    onnx = find_models(tmp_path, ("onnx",))
    every = find_models(tmp_path, ("onnx", "ncnn", "pt"))

    # Then they are relative paths, bounded to those places, links not followed
    assert onnx == ["homesec/models/garden/birds.onnx", "top.onnx"]
    assert every == [
        "homesec/models/garden/birds.onnx",
        "homesec/models/porch_ncnn_model",
        "top.onnx",
        "yard_ncnn_model",
    ]


def test_a_zipped_export_is_unpacked_under_the_models_folder(tmp_path: Path) -> None:
    """Only the export's own files are kept; a second upload gets a new name."""
    # Given a zip of an Ultralytics export (with its extra Python file)
    upload = zipped(
        tmp_path / "porch.zip", export_entries("porch_ncnn_model", ["package", "fall"])
    )
    models = tmp_path / "models"

    # When it is uploaded twice
    first = store_upload(upload, models, ("ncnn",))
    second = store_upload(upload, models, ("ncnn",))

    # Then two readable exports are kept side by side, with only their files
    assert isinstance(first, Path)
    assert isinstance(second, Path)
    assert (first.name, second.name) == ("porch_ncnn_model", "porch-2_ncnn_model")
    assert sorted(p.name for p in first.iterdir()) == [
        "metadata.yaml",
        "model.ncnn.bin",
        "model.ncnn.param",
    ]
    assert isinstance(read_model_info(second), ModelInfo)
    assert sorted(p.name for p in models.iterdir()) == [
        "porch-2_ncnn_model",
        "porch_ncnn_model",
    ]


def _link_zip(path: Path) -> Path:
    """An export whose metadata.yaml is a symbolic link to /etc/passwd."""
    entries = export_entries("evil_ncnn_model", ["x"])
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            if name.endswith("metadata.yaml"):
                link = zipfile.ZipInfo(name)
                link.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(link, "/etc/passwd")
            else:
                archive.writestr(name, content)
    return path


def _export_at(*folders: str) -> dict[str, bytes]:
    """The export's three files, each under the next of ``folders``."""
    contents = export_entries("x", ["x"])
    names = ("model.ncnn.param", "model.ncnn.bin", "metadata.yaml")
    return {
        f"{folder}/{name}": contents[f"x/{name}"]
        for folder, name in zip(folders, names, strict=True)
    }


def _with(extra: dict[str, bytes]) -> dict[str, bytes]:
    """A good export plus ``extra`` entries."""
    return {**export_entries("a_ncnn_model", ["x"]), **extra}


JUNK = {f"a_ncnn_model/junk{i}.txt": b"" for i in range(40)}
HOSTILE = {
    "parent path": lambda p: zipped(p, _export_at("..", "..", "..")),
    "absolute path": lambda p: zipped(p, _export_at("/tmp", "/tmp", "/tmp")),
    "parent inside": lambda p: zipped(p, _with({"a_ncnn_model/../../e.txt": b"x"})),
    "symlink": _link_zip,
    "too many entries": lambda p: zipped(p, _with(JUNK)),
    "scattered": lambda p: zipped(p, _export_at("a", "b", "a")),
    "nested deeper": lambda p: zipped(p, _export_at("a/b", "a/b", "a/b")),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_zips_are_refused(tmp_path: Path, kind: str) -> None:
    """Paths out of the folder, links, floods of entries: refused, nothing kept."""
    # Given a hostile zip
    upload = HOSTILE[kind](tmp_path / "upload.zip")
    models = tmp_path / "config" / "homesec" / "models"

    # When it is uploaded
    stored = store_upload(upload, models, ("ncnn",))

    # Then it is refused as unsafe and nothing is written anywhere
    assert isinstance(stored, UploadProblem)
    assert stored.reason == "upload_unsafe"
    assert not models.exists() or list(models.iterdir()) == []
    assert not (tmp_path / "e.txt").exists()


def test_too_big_zips_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too much declared is refused; a header under-declaring does not help."""
    # Given a 4 KiB limit, a zip declaring more, and one whose header lies
    monkeypatch.setattr(model_files, "MAX_MODEL_BYTES", 4096)
    entries = export_entries("big_ncnn_model", ["x"])
    entries["big_ncnn_model/model.ncnn.bin"] = bytes(64 * 1024)
    declared = zipped(tmp_path / "declared.zip", entries)
    liar = zipped(tmp_path / "liar.zip", entries)
    _shrink_declared_size(liar, "big_ncnn_model/model.ncnn.bin", 16)
    models = tmp_path / "models"

    # When they are uploaded
    results = [store_upload(zip_, models, ("ncnn",)) for zip_ in (declared, liar)]

    # Then the first is too big; the liar inflates no more than it declared
    # and is refused as a damaged zip; no partial export stays behind
    reasons = [getattr(result, "reason", result) for result in results]
    assert reasons == ["upload_too_big", "upload_not_model"]
    assert not models.exists() or list(models.iterdir()) == []


def _shrink_declared_size(path: Path, name: str, size: int) -> None:
    """Rewrite an entry's uncompressed size in the central directory (a lie)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    offset = 0
    while (offset := data.find(b"PK\x01\x02", offset)) != -1:
        name_len = int.from_bytes(data[offset + 28 : offset + 30], "little")
        if data[offset + 46 : offset + 46 + name_len] == name.encode():
            data[offset + 24 : offset + 28] = size.to_bytes(4, "little")
            break
        offset += 4
    local = info.header_offset
    data[local + 22 : local + 26] = size.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_uploads_of_other_kinds_are_refused(tmp_path: Path) -> None:
    """A zip for a backend without NCNN, a text file, a corrupt zip: refused."""
    # Given uploads the backend cannot use
    ncnn_zip = zipped(tmp_path / "porch.zip", export_entries("porch_ncnn_model", ["x"]))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    corrupt = tmp_path / "broken.zip"
    corrupt.write_bytes(b"PK\x03\x04 not really")
    incomplete = zipped(
        tmp_path / "half.zip", {"m_ncnn_model/model.ncnn.param": PARAM.encode()}
    )
    models = tmp_path / "models"

    # When they are uploaded to an onnx-only and an NCNN backend
    wrong = store_upload(ncnn_zip, models, ("onnx",))
    not_model = store_upload(text, models, ("onnx", "ncnn"))
    broken = store_upload(corrupt, models, ("ncnn",))
    half = store_upload(incomplete, models, ("ncnn",))

    # Then each says why
    reasons = [getattr(r, "reason", r) for r in (wrong, not_model, broken, half)]
    assert reasons == [
        "upload_wrong_format",
        "upload_not_model",
        "upload_not_model",
        "upload_not_model",
    ]


def test_metadata_in_list_form_is_read(tmp_path: Path) -> None:
    """``names`` as a list (older exports) reads the same as a mapping."""
    # Given an export whose metadata lists its names
    folder = export(tmp_path / "list_ncnn_model", ["a", "b"], imgsz=256)
    (folder / "metadata.yaml").write_text("imgsz: 256\nnames: [package, fall]\n")

    # When it is read
    info = read_model_info(folder)

    # Then the names are indexed in order and the size read
    assert info == ModelInfo(format="ncnn", names={0: "package", 1: "fall"}, imgsz=256)
