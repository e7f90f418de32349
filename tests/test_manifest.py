"""The manifest declares what HomeSec imports, as hassfest and HACS expect."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
import sys

from homeassistant.requirements import pkg_util
import yaml

INTEGRATION = Path(__file__).parents[1] / "custom_components" / "homesec"
MANIFEST = json.loads((INTEGRATION / "manifest.json").read_text())

# Integrations hassfest lets any integration use without declaring them.
ALWAYS_LOADED = {"device_automation", "persistent_notification", "system_health"}
# Constants only (the media classes of media source items), as core's media
# sources use them.
CONSTANTS_ONLY = {"media_player"}
# Detector backends installed on demand when a hub uses them (no musl wheels
# for most): imported inside functions, never at module level.
ON_DEMAND = {"onnxruntime", "ultralytics", "torch", "ncnn"}
# Import names that differ from their distribution's name.
DISTRIBUTION = {"PIL": "pillow", "yaml": "pyyaml"}


def _imports() -> list[tuple[Path, ast.Import | ast.ImportFrom, bool]]:
    """Every import, and whether it is at module level."""
    found = []
    for path in INTEGRATION.rglob("*.py"):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append((path, node, id(node) in top))
    return found


def _modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return []
        base = node.module or ""
        if base == "homeassistant.components":
            return [f"{base}.{alias.name}" for alias in node.names]
        return [base]
    return [alias.name for alias in node.names]


def test_every_integration_imported_is_declared() -> None:
    """Each homeassistant.components.X used is a dependency or one of our platforms."""
    # Given the manifest's dependencies and HomeSec's own platform files
    declared = set(MANIFEST["dependencies"]) | set(MANIFEST["after_dependencies"])
    platforms = {path.stem for path in INTEGRATION.glob("*.py")}

    # When every import of another integration is collected
    used = {
        module.split(".")[2]
        for _, node, _ in _imports()
        for module in _modules(node)
        if module.startswith("homeassistant.components.")
    }

    # Then each is declared, a platform HomeSec provides, or always loaded
    undeclared = used - declared - platforms - ALWAYS_LOADED - CONSTANTS_ONLY
    assert not undeclared, f"declare in manifest.json: {sorted(undeclared)}"
    assert "ai_task" in declared


def test_every_runtime_package_is_a_requirement_with_a_lower_bound() -> None:
    """Packages imported at module level are manifest requirements with >=."""
    # Given the manifest's requirements
    bounds = {}
    for requirement in MANIFEST["requirements"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9a-z.]*)", requirement)
        assert match, f"{requirement}: give a lower bound (name>=version), no pin"
        bounds[match.group(1).lower()] = match.group(2)

    # When the third-party packages HomeSec imports are collected
    imported: set[str] = set()
    on_demand_at_top = []
    for path, node, at_top in _imports():
        for module in _modules(node):
            name = module.split(".")[0]
            if not name or name in sys.stdlib_module_names or name == "homeassistant":
                continue
            if name in ON_DEMAND:
                if at_top:
                    on_demand_at_top.append(f"{path.name}: {name}")
                continue
            imported.add(DISTRIBUTION.get(name, name).lower())

    # Then each is a requirement, on-demand backends are imported lazily, and
    # the environment satisfies every lower bound
    assert not on_demand_at_top
    assert imported - set(bounds) == set(), "add to manifest requirements"
    assert set(bounds) - imported == set(), "requirement HomeSec does not import"
    for requirement in MANIFEST["requirements"]:
        assert pkg_util.is_installed(requirement), requirement


# hassfest's quality scale rules (script/hassfest/quality_scale.py), by tier.
QUALITY_RULES = {
    "bronze": "action-setup appropriate-polling brands common-modules config-flow "
    "config-flow-test-coverage dependency-transparency docs-actions docs-conditions "
    "docs-high-level-description docs-installation-instructions "
    "docs-removal-instructions docs-triggers entity-event-setup entity-unique-id "
    "has-entity-name runtime-data test-before-configure test-before-setup "
    "unique-config-entry",
    "silver": "action-exceptions config-entry-unloading docs-configuration-parameters "
    "docs-installation-parameters entity-unavailable integration-owner "
    "log-when-unavailable parallel-updates reauthentication-flow test-coverage",
    "gold": "devices diagnostics discovery discovery-update-info docs-data-update "
    "docs-examples docs-known-limitations docs-supported-devices "
    "docs-supported-functions docs-troubleshooting docs-use-cases dynamic-devices "
    "entity-category entity-device-class entity-disabled-by-default "
    "entity-translations exception-translations icon-translations "
    "reconfiguration-flow repair-issues stale-devices",
    "platinum": "async-dependency inject-websession strict-typing",
}


def test_quality_scale_lists_every_rule_with_a_status() -> None:
    """quality_scale.yaml names all 54 rules; exempt and todo ones say why."""
    # Given hassfest's rules and HomeSec's quality_scale.yaml
    expected = {rule for rules in QUALITY_RULES.values() for rule in rules.split()}
    listed = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]

    # When the statuses are read
    statuses = {
        rule: value if isinstance(value, str) else value["status"]
        for rule, value in listed.items()
    }

    # Then every rule is there once, and a status other than done has a reason
    assert len(expected) == 54
    assert set(statuses) == expected
    assert set(statuses.values()) <= {"done", "exempt", "todo"}
    for rule, value in listed.items():
        if statuses[rule] != "done":
            assert isinstance(value, dict) and value.get("comment"), rule
