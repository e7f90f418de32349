"""The engine never imports Home Assistant, nor the integration's glue around it."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ENGINE = Path(__file__).parents[1] / "custom_components" / "homesec" / "engine"
INTEGRATION_PACKAGE = ("custom_components", "homesec")


def homeassistant_imports(source: str) -> list[int]:
    """Return the line numbers of every ``homeassistant`` import in ``source``."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name.split(".")[0] == "homeassistant" for name in names):
            lines.append(node.lineno)
    return lines


def escaping_imports(source: str, depth: int) -> list[int]:
    """Return the line numbers of imports in ``source`` that leave the engine.

    ``depth`` is how many packages below ``engine`` the module's own package is
    (0 for ``engine/pipeline.py`` and ``engine/__init__.py``, 1 for
    ``engine/detect/onnx.py``). A relative import of level ``n`` resolves ``n - 1``
    packages up from the module's package, so any level above ``depth + 1``
    reaches the integration package (its Home Assistant glue) or beyond. An
    absolute import of the integration outside ``engine`` leaves it too.
    """
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level > depth + 1:
            lines.append(node.lineno)
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(_is_glue(name) for name in names):
            lines.append(node.lineno)
    return lines


def _is_glue(name: str) -> bool:
    """Whether an absolute module name is the integration but not its engine."""
    parts = name.split(".")
    return parts[:2] == [*INTEGRATION_PACKAGE] and parts[2:3] != ["engine"]


def depth_in_engine(path: Path) -> int:
    """How many packages below ``engine`` the module at ``path`` lives."""
    return len(path.relative_to(ENGINE).parts) - 1


def test_checker_flags_every_import_form() -> None:
    """The checker sees plain, from and nested imports of homeassistant."""
    # Given module sources that import Home Assistant in three ways
    source = (
        "import homeassistant\n"
        "from homeassistant.core import HomeAssistant\n"
        "def f():\n    import homeassistant.util.dt as dt\n"
        "from .homeassistant_like import x\n"
        "import homeassistant_fake\n"
    )

    # When the checker reads it
    found = homeassistant_imports(source)

    # Then each real import is reported and look-alikes are not
    assert found == [1, 2, 4]


def test_engine_does_not_import_homeassistant() -> None:
    """No module under engine/ imports homeassistant or the glue around engine/."""
    # Given every Python module of the engine
    modules = sorted(
        Path(folder) / name
        for folder, _, names in os.walk(ENGINE)
        for name in names
        if name.endswith(".py")
    )
    assert len(modules) > 5

    # When each is checked for Home Assistant and for imports leaving the engine
    offenders = {
        str(path.relative_to(ENGINE)): lines
        for path in modules
        if (
            lines := homeassistant_imports(source := path.read_text())
            + escaping_imports(source, depth_in_engine(path))
        )
    }

    # Then none imports Home Assistant or the integration's glue
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "depth", "expected"),
    [
        # engine/pipeline.py (depth 0): "." is the engine, ".." the integration
        ("from .models import Clip\nfrom . import policy\n", 0, []),
        ("from ..const import DOMAIN\n", 0, [1]),
        ("from .. import runtime\n", 0, [1]),
        ("def f():\n    from ..runtime import HomeSecRuntime\n", 0, [2]),
        # engine/detect/onnx.py (depth 1): ".." is the engine, "..." the integration
        ("from ..models import Clip\nfrom ..detect.rules import expand\n", 1, []),
        ("from ...const import DOMAIN\n", 1, [1]),
        ("from ... import runtime\n", 1, [1]),
        ("from ....other import thing\n", 1, [1]),
        # absolute imports of the integration: only its engine is allowed
        ("from custom_components.homesec.engine.models import Clip\n", 1, []),
        ("from custom_components.homesec import const\n", 0, [1]),
        ("import custom_components.homesec.runtime\n", 0, [1]),
        ("from custom_components.homesec.const import DOMAIN\n", 0, [1]),
        ("from custom_components.homesec import engine\n", 0, []),
        ("from custom_components import homesec\n", 0, [1]),
        ("from custom_components.homesec_other import x\n", 0, []),
    ],
)
def test_checker_flags_imports_that_leave_the_engine(
    source: str, depth: int, expected: list[int]
) -> None:
    """Relative imports climbing out of engine/ are offenders, at any depth."""
    # Given a module source at ``depth`` packages below engine/
    # When the checker reads it
    found = escaping_imports(source, depth)

    # Then exactly the imports that resolve outside the engine are reported
    assert found == expected


def test_depth_of_engine_modules() -> None:
    """A module's depth is counted from engine/, packages' __init__ included."""
    # Given modules at the engine's top and in a subpackage
    # When their depth is computed, then it counts the packages below engine/
    assert depth_in_engine(ENGINE / "pipeline.py") == 0
    assert depth_in_engine(ENGINE / "__init__.py") == 0
    assert depth_in_engine(ENGINE / "detect" / "onnx.py") == 1
    assert depth_in_engine(ENGINE / "detect" / "__init__.py") == 1
