"""Import HomeSec's engine without its Home Assistant package.

``custom_components/homesec/__init__.py`` imports Home Assistant (about 150 MB);
the engine does not need it (tests/test_layers.py). Benchmarks register bare
package objects for the two parents so that only the engine is loaded, and its
figures are the engine's own.
"""

from __future__ import annotations

from pathlib import Path
import sys
import types

ROOT = Path(__file__).resolve().parents[1]


def install() -> None:
    """Make ``custom_components.homesec.engine`` importable on its own."""
    for name, folder in (
        ("custom_components", ROOT / "custom_components"),
        ("custom_components.homesec", ROOT / "custom_components" / "homesec"),
    ):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(folder)]
            sys.modules[name] = package
