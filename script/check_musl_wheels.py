"""Check that HomeSec's requirements install on Home Assistant OS without a compiler.

Home Assistant OS (and the official container image) runs CPython 3.14 on musl
(Alpine) and has no compiler: every requirement must come as a musllinux wheel,
or as a source distribution that is pure Python. For the manifest's requirements
and the on-demand requirements of the detector backends meant to run there
(``HAOS_BACKENDS`` in ``DETECTOR_KINDS``), with their dependencies, this resolves
on ``musllinux_1_2_x86_64`` and ``musllinux_1_2_aarch64`` with pip's own resolver
(``pip install --dry-run --report --only-binary=:all: --platform ...
--python-version 3.14 --implementation cp --abi cp314``: the same resolution as
``pip download``, reading only the wheels' metadata from PyPI). A package with no
wheel for the platform is then downloaded as an sdist (``pip download
--no-binary``) and inspected: no C/C++/Cython/Rust/Fortran sources and no
``ext_modules`` in setup.py, or the check fails naming it.

Packages Home Assistant provides: the ones pinned in its
``package_constraints.txt`` and the dependencies of the ``homeassistant``
package, at the installed release. Its images install them from its own wheel
index, so they are taken as present (their pins also constrain the resolution,
as Home Assistant's pip does), unless the integration requires them itself.
Environment markers are evaluated for this machine (pip's limitation with
``--platform``).

    .venv/bin/python script/check_musl_wheels.py                      # CI
    .venv/bin/python script/check_musl_wheels.py --requirement 'ncnn>=1.0.20250916'
    .venv/bin/python script/check_musl_wheels.py --expect-fail onnxruntime
    .venv/bin/python script/check_musl_wheels.py --table   # the README's table

Downloads are cached in $HOMESEC_WHEEL_CACHE (default: a folder in the temp dir).
"""

from __future__ import annotations

import argparse
from collections.abc import Set
from dataclasses import dataclass
import importlib.metadata
import json
import os
from pathlib import Path
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MUSL = {
    "musllinux_1_2_x86_64": ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64"],
    "musllinux_1_2_aarch64": ["musllinux_1_2_aarch64", "musllinux_1_1_aarch64"],
}
GLIBC = {  # glibc 2.28 and later (Debian 10+, Ubuntu 20.04+)
    f"manylinux_2_28_{arch}": [
        *(f"manylinux_2_{minor}_{arch}" for minor in range(28, 16, -1)),
        f"manylinux2014_{arch}",
    ]
    for arch in ("x86_64", "aarch64")
}
HAOS_BACKENDS = ("ncnn",)
"""Detector backends whose requirements must install on Home Assistant OS."""
TABLE_BACKENDS = {
    "motion": (),
    "remote": (),
    "ncnn": ("ncnn>=1.0.20250916",),
    "onnx": ("onnxruntime>=1.17.0",),
    "ultralytics": ("ultralytics>=8.3.0",),
}
"""Fallback requirements for ``--table`` when DETECTOR_KINDS lacks a backend."""
SOURCE_SUFFIXES = (
    *(".c", ".cc", ".cpp", ".cxx", ".h"),  # C and C++
    *(".pyx", ".pxd"),  # Cython
    *(".rs", ".f", ".f90"),  # Rust, Fortran
)
MISSING = re.compile(r"satisfies the requirement (.+?) \(from versions")
UNAVAILABLE = "no matching distributions available for your environment:"
CACHE = Path(
    os.environ.get("HOMESEC_WHEEL_CACHE")
    or Path(tempfile.gettempdir()) / "homesec-wheel-check"
)


class NeedsCompilerError(Exception):
    """A requirement that installs only by compiling (or not at all)."""

    def __init__(self, package: str, why: str) -> None:
        """Name the package (or packages, comma-separated) and say why."""
        super().__init__(f"{package}: {why}")
        self.packages = frozenset(
            canonicalize_name(name) for name in package.split(", ") if name
        )


def blamed(own: Set[str], errors: list[str]) -> str:
    """The requirements pip's error lines name, or "requirements" if none."""
    text = " ".join(errors).lower().replace("_", "-")
    named = sorted(
        name
        for name in own
        if re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", text)
    )
    return ", ".join(named) or "requirements"


def named_everywhere(
    package: str, failures: dict[str, NeedsCompilerError | None]
) -> bool:
    """Whether every platform's failure names ``package`` itself (the self-check)."""
    expected = canonicalize_name(package)
    return bool(failures) and all(
        isinstance(why, NeedsCompilerError) and expected in why.packages
        for why in failures.values()
    )


@dataclass(frozen=True)
class PureSdist:
    """A source distribution that installs without a compiler."""

    archive: str
    version: str
    requires: list[str]


type Sdists = dict[str, PureSdist | NeedsCompilerError]
"""Source distributions looked at, by name (once for all platforms)."""


@dataclass(frozen=True)
class Resolved:
    """How one package is satisfied on one platform."""

    name: str
    version: str
    source: str


class Resolver:
    """Resolves requirements for one platform (pip, metadata only)."""

    def __init__(
        self, work: Path, provided: dict[str, str], own: Set[str], sdists: Sdists
    ) -> None:
        """Resolve in ``work``, with Home Assistant's packages as provided.

        ``sdists`` is shared between platforms: an sdist is looked at once.
        """
        self.work = work
        self.stubs = work / "stubs"
        self.stubs.mkdir(parents=True, exist_ok=True)
        self.sdists = sdists
        self.used: dict[str, PureSdist] = {}
        self.provided = {k: v for k, v in provided.items() if k not in own}
        self.constraints = work / "constraints.txt"
        self.constraints.write_text(
            "".join(f"{name}=={version}\n" for name, version in provided.items())
        )
        for name, version in self.provided.items():
            write_stub(self.stubs, name, version, [])

    def resolve(self, requirements: list[str], platforms: list[str]) -> list[Resolved]:
        """Every package the requirements install; raise NeedsCompilerError."""
        own = {canonicalize_name(Requirement(r).name) for r in requirements}
        while True:
            report = self.work / "report.json"
            result = pip(
                "install", "--dry-run", "--ignore-installed", "--progress-bar=off",
                "--report", str(report), "--only-binary=:all:",
                *(f"--platform={p}" for p in platforms),
                "--python-version=3.14", "--implementation=cp", "--abi=cp314",
                "--find-links", str(self.stubs), "--constraint", str(self.constraints),
                *requirements,
            )  # fmt: skip
            if result.returncode == 0:
                break
            output = result.stdout + result.stderr
            missing = [
                r
                for r in unavailable(output)
                if canonicalize_name(r.name) not in {*self.used, *self.provided}
            ]
            if not missing:
                errors = [line for line in output.splitlines() if "ERROR" in line]
                last = errors[-1][:300] if errors else output.strip()[-300:]
                raise NeedsCompilerError(
                    blamed(own, errors), f"does not resolve: {last}"
                )
            for requirement in missing:
                self.use_sdist(requirement)
        installed = json.loads(report.read_text())["install"]
        return [self.describe(item) for item in installed]

    def use_sdist(self, requirement: Requirement) -> None:
        """Stand a pure-Python sdist in for a missing wheel, or raise."""
        name = canonicalize_name(requirement.name)
        if name not in self.sdists:
            try:
                self.sdists[name] = self.pure_sdist(requirement)
            except NeedsCompilerError as err:
                self.sdists[name] = err
        verdict = self.sdists[name]
        if isinstance(verdict, NeedsCompilerError):
            raise verdict
        write_stub(self.stubs, name, verdict.version, verdict.requires)
        self.used[name] = verdict

    def describe(self, item: dict[str, object]) -> Resolved:
        """Which file satisfied one package of pip's report."""
        metadata = item["metadata"]
        assert isinstance(metadata, dict)
        info = item["download_info"]
        assert isinstance(info, dict)
        name = canonicalize_name(metadata["name"])
        filename = str(info["url"]).rsplit("/", 1)[-1]
        if name in self.used:
            source = f"{self.used[name].archive} (pure-Python sdist)"
        elif name in self.provided:
            source = "provided by Home Assistant"
            if "/stubs/" not in str(info["url"]):
                source += f" (PyPI's {filename} fits too)"
        else:
            source = filename
        return Resolved(name, str(metadata["version"]), source)

    def pure_sdist(self, requirement: Requirement) -> PureSdist:
        """Download the sdist and check it is pure Python."""
        name = canonicalize_name(requirement.name)
        target = self.work / "sdist" / name
        result = pip(
            "download", "--quiet", "--no-deps", f"--no-binary={requirement.name}",
            "--dest", str(target), f"{requirement.name}{requirement.specifier}",
        )  # fmt: skip
        archives = sorted(target.glob("*")) if result.returncode == 0 else []
        if not archives:
            raise NeedsCompilerError(name, "no wheel for this platform and no sdist")
        archive = archives[0]
        compiled, metadata = inspect_sdist(archive)
        if compiled:
            raise NeedsCompilerError(
                name, f"no wheel for this platform; its sdist {compiled}"
            )
        version = metadata.get("Version", [""])[0]
        return PureSdist(archive.name, version, metadata.get("Requires-Dist", []))


def unavailable(output: str) -> list[Requirement]:
    """The packages pip found no distribution of, from its output."""
    found = [Requirement(m.split(" (from ")[0]) for m in MISSING.findall(output)]
    if UNAVAILABLE in output:
        for line in output.split(UNAVAILABLE, 1)[1].splitlines()[1:]:
            if not line.startswith("    "):
                break
            found.append(Requirement(line.strip()))
    return found


def inspect_sdist(archive: Path) -> tuple[str, dict[str, list[str]]]:
    """Why the sdist needs a compiler ("" when it does not) and its PKG-INFO."""
    wanted = ("/PKG-INFO", "/setup.py")
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zipped:
            names = zipped.namelist()
            top = {n: zipped.read(n) for n in names if n.count("/") == 1}
    else:
        with tarfile.open(archive) as tarred:
            members = [m for m in tarred.getmembers() if m.isfile()]
            names = [m.name for m in members]
            top = {
                m.name: extracted.read()
                for m in members
                if m.name.count("/") == 1
                and m.name.endswith(wanted)
                and (extracted := tarred.extractfile(m)) is not None
            }
    metadata: dict[str, list[str]] = {}
    for name, content in top.items():
        if name.endswith("/PKG-INFO"):
            for line in content.decode(errors="replace").splitlines():
                if not line.strip():
                    break
                key, _, value = line.partition(": ")
                metadata.setdefault(key, []).append(value)
    sources = [n for n in names if n.lower().endswith(SOURCE_SUFFIXES)]
    sources.sort(key=lambda n: n.endswith((".h", ".pxd")))  # a .c before a header
    if sources:
        return f"has compiled sources ({sources[0]}, {len(sources)} in all)", metadata
    if any(n.endswith("/setup.py") and b"ext_modules" in c for n, c in top.items()):
        return "declares ext_modules in setup.py", metadata
    return "", metadata


def write_stub(folder: Path, name: str, version: str, requires: list[str]) -> None:
    """A metadata-only pure wheel standing in for a package pip may not fetch."""
    stem = f"{name.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{info}/METADATA", "\n".join(lines) + "\n")
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: homesec\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n",
        )
        wheel.writestr(f"{info}/RECORD", "")


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter's pip against PyPI only (no local indexes or pins)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if cert := os.environ.get("PIP_CERT"):
        env["PIP_CERT"] = cert
    return subprocess.run(
        [sys.executable, "-m", "pip", *args, "--cache-dir", str(CACHE / "pip"),
         "--index-url", "https://pypi.org/simple"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def home_assistant_packages() -> dict[str, str]:
    """Packages Home Assistant ships: its pins and its own dependencies."""
    import homeassistant  # noqa: PLC0415 - run by .venv's Python, after sys.path

    provided: dict[str, str] = {}
    pins = Path(homeassistant.__file__).parent / "package_constraints.txt"
    for line in pins.read_text().splitlines():
        try:
            requirement = Requirement(line.split("#")[0].strip())
        except InvalidRequirement:
            continue
        pinned = [s.version for s in requirement.specifier if s.operator == "=="]
        if pinned and not pinned[0].startswith("1000000000"):
            provided[canonicalize_name(requirement.name)] = pinned[0]
    todo, seen = ["homeassistant", *provided], set()
    while todo:
        try:
            dist = importlib.metadata.distribution(todo.pop())
        except importlib.metadata.PackageNotFoundError:
            continue
        for line in dist.requires or []:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            if name in seen or (
                requirement.marker and not requirement.marker.evaluate({"extra": ""})
            ):
                continue
            seen.add(name)
            try:
                provided.setdefault(name, importlib.metadata.version(name))
            except importlib.metadata.PackageNotFoundError:
                continue
            todo.append(name)
    return provided


def detector_requirements(backends: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The on-demand requirements of these backends, from DETECTOR_KINDS."""
    from custom_components.homesec.detector_kinds import (  # noqa: PLC0415
        DETECTOR_KINDS,
    )

    return {b: DETECTOR_KINDS[b].requirements for b in backends if b in DETECTOR_KINDS}


def manifest_requirements() -> list[str]:
    """The integration's manifest requirements."""
    manifest = ROOT / "custom_components" / "homesec" / "manifest.json"
    return list(json.loads(manifest.read_text())["requirements"])


def check(
    requirements: list[str], platforms: dict[str, list[str]], work: Path, quiet: bool
) -> dict[str, NeedsCompilerError | None]:
    """Resolve on each platform; per platform the failure, or None."""
    provided = home_assistant_packages()
    own = {canonicalize_name(Requirement(r).name) for r in requirements}
    failures: dict[str, NeedsCompilerError | None] = {}
    sdists: Sdists = {}
    for platform, tags in platforms.items():
        resolver = Resolver(work / platform, provided, own, sdists)
        try:
            resolved = resolver.resolve(requirements, tags)
        except NeedsCompilerError as err:
            failures[platform] = err
            if not quiet:
                print(f"{platform}: FAIL, would need a compiler: {err}")
            continue
        failures[platform] = None
        if not quiet:
            print(f"{platform}: OK")
            for item in resolved:
                print(f"  {item.name} {item.version}: {item.source}")
    return failures


def table(work: Path) -> None:
    """Print the README's backend table, each cell from a check."""
    found = detector_requirements(tuple(TABLE_BACKENDS))
    base = manifest_requirements()
    columns = {**MUSL, **GLIBC}
    print("| backend | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for backend, fallback in TABLE_BACKENDS.items():
        extra = list(found.get(backend, fallback))
        failures = check(base + extra, columns, work / backend, quiet=True)
        cells = [
            "installs" if why is None else f"no ({str(why).split(':')[0]})"
            for why in failures.values()
        ]
        label = f"{backend} ({', '.join(extra)})" if extra else backend
        print(f"| {label} | " + " | ".join(cells) + " |")


def main() -> int:
    """Check, self-check or print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requirement", action="append", default=[])
    parser.add_argument(
        "--expect-fail",
        metavar="PACKAGE",
        help="self-check: add PACKAGE and succeed only if the check names it",
    )
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as temp:
        work = Path(temp)
        if args.table:
            table(work)
            return 0
        requirements = manifest_requirements()
        backends = detector_requirements(HAOS_BACKENDS)
        for backend in HAOS_BACKENDS:
            if backend not in backends:
                print(f"note: no {backend!r} detector in DETECTOR_KINDS: not checked")
        for extra in backends.values():
            requirements += extra
        requirements += args.requirement
        if args.expect_fail:
            requirements.append(args.expect_fail)
        print("Home Assistant OS (CPython 3.14, musl), requirements:")
        print("  " + ", ".join(requirements))
        failures = check(requirements, MUSL, work, quiet=bool(args.expect_fail))
    if args.expect_fail:
        expected = canonicalize_name(Requirement(args.expect_fail).name)
        for platform, why in failures.items():
            print(f"{platform}: {why or 'resolved (unexpected)'}")
        if not named_everywhere(expected, failures):
            print(f"self-check FAILED: {expected} was not reported on every platform")
            return 1
        print(f"self-check OK: {expected} is reported as needing a compiler")
        return 0
    return 1 if any(why is not None for why in failures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
