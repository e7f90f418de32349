"""script/check_musl_wheels.py's offline parts: sdist inspection and stand-ins.

Resolution itself needs PyPI: CI runs the script and its self-check
(``--expect-fail onnxruntime``).
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path
import sys
import tarfile
from types import ModuleType
import zipfile

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def check() -> ModuleType:
    """The script, imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "check_musl_wheels", ROOT / "script" / "check_musl_wheels.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


PKG_INFO = (
    "Metadata-Version: 2.4\nName: demo\nVersion: 1.2\n"
    'Requires-Dist: pyasyncore; python_version >= "3.12"\n\nLong description\n'
)


def sdist(folder: Path, files: dict[str, str], *, zipped: bool = False) -> Path:
    """A source distribution ``demo-1.2`` holding ``files``."""
    files = {"PKG-INFO": PKG_INFO, "demo/__init__.py": ""} | files
    if zipped:
        path = folder / "demo-1.2.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for name, text in files.items():
                archive.writestr(f"demo-1.2/{name}", text)
        return path
    path = folder / "demo-1.2.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"demo-1.2/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("zipped", [False, True])
def test_a_pure_python_sdist_passes_with_its_dependencies(
    check: ModuleType, tmp_path: Path, zipped: bool
) -> None:
    """A pure-Python sdist needs no compiler; its Requires-Dist is kept."""
    # Given an sdist with Python files and a plain setup.py
    archive = sdist(tmp_path, {"setup.py": "setup(name='demo')"}, zipped=zipped)

    # When it is inspected
    why, metadata = check.inspect_sdist(archive)

    # Then nothing needs compiling and its metadata is read
    assert why == ""
    assert metadata["Version"] == ["1.2"]
    assert metadata["Requires-Dist"] == ['pyasyncore; python_version >= "3.12"']


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"demo/_speedups.c": "int x;"}, "demo-1.2/demo/_speedups.c"),
        ({"src/lib.rs": "fn main() {}"}, "demo-1.2/src/lib.rs"),
        ({"demo/fast.pyx": "cdef int x"}, "demo-1.2/demo/fast.pyx"),
        (
            {"setup.py": "setup(ext_modules=[Extension('d', ['d.cpp'])])"},
            "ext_modules",
        ),
    ],
)
def test_an_sdist_that_compiles_is_named(
    check: ModuleType, tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    """C, Rust or Cython sources, or ext_modules, mean a compiler is needed."""
    # Given an sdist with something to compile
    archive = sdist(tmp_path, files)

    # When it is inspected
    why, _ = check.inspect_sdist(archive)

    # Then the reason names what needs compiling
    assert expected in why


def test_a_stand_in_wheel_carries_name_version_and_dependencies(
    check: ModuleType, tmp_path: Path
) -> None:
    """The stand-in for a provided package or a pure sdist is a valid wheel."""
    # Given a stand-in for a package pip cannot fetch for the platform
    check.write_stub(tmp_path, "demo-pkg", "1.2", ["pyasyncore"])

    # When its metadata is read back
    wheel = tmp_path / "demo_pkg-1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("demo_pkg-1.2.dist-info/METADATA").decode()

    # Then pip sees the package, its version and its dependencies
    assert "Name: demo-pkg\nVersion: 1.2\nRequires-Dist: pyasyncore\n" in metadata


def test_packages_without_a_distribution_are_read_from_pip(
    check: ModuleType,
) -> None:
    """Both of pip's ways of saying a package has no distribution are read."""
    # Given pip's output for a missing package and for a backtracked conflict
    output = (
        "ERROR: Could not find a version that satisfies the requirement "
        "onnxruntime>=1.17.0 (from versions: none)\n"
        "Additionally, some packages in these conflicts have no matching "
        "distributions available for your environment:\n"
        "    numpy\n    opencv-python\n\nTo fix this you could try to:\n"
    )

    # When it is parsed
    missing = check.unavailable(output)

    # Then every package is named, with its version range where pip gave one
    assert [str(r) for r in missing] == [
        "onnxruntime>=1.17.0",
        "numpy",
        "opencv-python",
    ]


def test_an_unresolvable_set_blames_only_the_packages_pip_names(
    check: ModuleType,
) -> None:
    """A conflict pip cannot resolve names its packages, not every requirement."""
    # Given the integration's requirements and pip's error for one of them
    own = {"pyftpdlib", "onnxruntime", "onnx", "ncnn"}
    errors = [
        "ERROR: Cannot install onnxruntime>=1.17.0 because these package "
        "versions have conflicting dependencies.",
    ]

    # When the failure is blamed
    named = check.blamed(own, errors)

    # Then only the package pip named is blamed (not onnx, a prefix of it)
    assert named == "onnxruntime"
    assert check.blamed(own, ["ERROR: ResolutionImpossible"]) == "requirements"


def test_the_self_check_needs_the_package_itself_named_on_every_platform(
    check: ModuleType,
) -> None:
    """--expect-fail passes only when each platform's failure is that package."""
    # Given failures naming onnxruntime, another package, or none
    mine = check.NeedsCompilerError("onnxruntime", "no wheel for this platform")
    other = check.NeedsCompilerError("numpy", "no wheel; onnxruntime needs it")
    everyone = check.NeedsCompilerError("requirements", "does not resolve")

    # When the self-check judges them
    def judged(*failures: object) -> bool:
        platforms = ("musllinux_1_2_x86_64", "musllinux_1_2_aarch64")
        return bool(
            check.named_everywhere(
                "onnxruntime", dict(zip(platforms, failures, strict=True))
            )
        )

    # Then only onnxruntime's own failure on both platforms passes it
    assert judged(mine, mine)
    assert not judged(mine, None)
    assert not judged(mine, other)
    assert not judged(everyone, everyone)


def test_the_table_asks_for_what_home_assistant_installs(check: ModuleType) -> None:
    """The README table's fallback requirements match the backends' own."""
    # Given the detector backends' on-demand requirements
    found = check.detector_requirements(tuple(check.TABLE_BACKENDS))

    # When the table's fallbacks are compared with them
    differing = {
        backend: (fallback, found[backend])
        for backend, fallback in check.TABLE_BACKENDS.items()
        if backend in found and found[backend] != fallback
    }

    # Then each backend is checked with the requirement users get
    assert differing == {}
