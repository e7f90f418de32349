"""The engine never imports Home Assistant."""

from __future__ import annotations

import ast
import os
from pathlib import Path

ENGINE = Path(__file__).parents[1] / "custom_components" / "homesec" / "engine"


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
    """No module under engine/ imports homeassistant."""
    # Given every Python module of the engine
    modules = sorted(
        Path(folder) / name
        for folder, _, names in os.walk(ENGINE)
        for name in names
        if name.endswith(".py")
    )
    assert len(modules) > 5

    # When each is checked
    offenders = {
        str(path.relative_to(ENGINE)): lines
        for path in modules
        if (lines := homeassistant_imports(path.read_text()))
    }

    # Then none imports Home Assistant
    assert offenders == {}
