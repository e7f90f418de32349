"""Typed settings: every default defined once, data and options merged once."""

from __future__ import annotations

import ast
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.homesec.engine.models import RiskLevel
from custom_components.homesec.settings import HUB_DEFAULTS, HubSettings

from .helpers import finish_hub_flow, start_hub_flow

INTEGRATION = Path(__file__).parents[1] / "custom_components" / "homesec"
DEFAULTS_HOME = {"settings.py"}
"""Where the Home Assistant side defines its defaults (the engine's models hold
the defaults of the engine's own settings, read through ``source_default``)."""


def _glue_modules() -> list[Path]:
    return sorted(
        path
        for path in INTEGRATION.rglob("*.py")
        if "engine" not in path.relative_to(INTEGRATION).parts
        and path.name not in DEFAULTS_HOME
    )


def _is_literal(node: ast.expr) -> bool:
    """A value written in place: a constant other than None, or a literal list."""
    if isinstance(node, ast.Constant):
        return node.value is not None
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(_is_literal(item) for item in node.elts)
    return False


def _is_setting(node: ast.expr) -> bool:
    """A settings key: a ``CONF_*`` constant, or the name of a hub setting."""
    if isinstance(node, ast.Name):
        return node.id.startswith("CONF_")
    return isinstance(node, ast.Constant) and node.value in HubSettings.model_fields


def written_defaults(source: str) -> list[int]:
    """Lines where a setting's default is written in place.

    ``Required(key, default=<literal>)`` / ``Optional(...)`` in a form, and
    ``data.get(key, <literal>)`` fallbacks when reading stored settings.
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if name in ("Required", "Optional") and node.args and _is_setting(node.args[0]):
            lines += [
                node.lineno
                for keyword in node.keywords
                if keyword.arg == "default" and _is_literal(keyword.value)
            ]
        elif (
            name == "get"
            and len(node.args) == 2
            and _is_setting(node.args[0])
            and _is_literal(node.args[1])
        ):
            lines.append(node.lineno)
    return lines


def test_checker_sees_defaults_written_in_place() -> None:
    """The checker flags literal defaults and fallbacks, not derived ones."""
    # Given sources with written and derived defaults
    source = (
        'a = probatio.Required(CONF_MIN_RISK_LEVEL, default="high")\n'
        'b = data.get("daily_calls", 200)\n'
        'c = probatio.Required("x", default=HUB_DEFAULTS.min_risk_level.value)\n'
        'd = data.get("daily_calls")\n'
        'e = probatio.Optional("notify_entities", default=[])\n'
        "f = data.get(CONF_MIN_HITS, None)\n"
        'g = event.data.get("action", "")\n'
        "h = data.get(CONF_MIN_HITS, 1)\n"
    )

    # When the checker reads them
    found = written_defaults(source)

    # Then only the written ones are reported
    assert found == [1, 2, 5, 8]


def test_every_default_is_defined_in_one_place() -> None:
    """No form or settings reader outside settings.py writes a default itself."""
    # Given every module of the Home Assistant side but the settings
    modules = _glue_modules()
    assert len(modules) > 30

    # When defaults written in place are looked for
    offenders = {
        str(path.relative_to(INTEGRATION)): lines
        for path in modules
        if (lines := written_defaults(path.read_text()))
    }

    # Then there are none: forms and readers take them from the settings
    assert offenders == {}


def test_the_minimum_risk_default_is_written_once() -> None:
    """The word for the default minimum risk stands only where the levels are."""
    # Given every module of the integration, engine included
    modules = sorted(INTEGRATION.rglob("*.py"))

    # When the literal "high" is looked for
    holders = {
        str(path.relative_to(INTEGRATION))
        for path in modules
        if any(
            isinstance(node, ast.Constant) and node.value == "high"
            for node in ast.walk(ast.parse(path.read_text()))
        )
    }

    # Then only the risk levels define it (besides the Companion app's Android
    # ``priority: high``, a wire value), and the hub's default names the level
    assert holders == {"engine/models.py", "adapters/notify_targets.py"}
    assert HUB_DEFAULTS.min_risk_level is RiskLevel.HIGH


async def test_the_forms_and_the_hub_use_the_same_default(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The alerts form offers the settings' default, and the new hub runs on it."""
    # Given a new hub's flow at its alerts step (summaries by an AI Task)
    result = await start_hub_flow(hass)
    for step in (
        {"detector": "motion"},
        {"analyzer": "ai_task"},
        {"ai_task_entity": "ai_task.describer"},
    ):
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    assert result["step_id"] == "alerts"
    schema = result["data_schema"].schema
    offered = next(key for key in schema if key == "min_risk_level").default()

    # When the form is submitted as it is
    done = await finish_hub_flow(hass, result)

    # Then the form offered the settings' one default, and the hub uses it
    assert done["type"] is FlowResultType.CREATE_ENTRY
    hub = done["result"].runtime_data
    assert offered == HUB_DEFAULTS.min_risk_level.value
    rules = hub.engine.policy.settings_for("any camera")
    assert rules.min_risk_level is HUB_DEFAULTS.min_risk_level
    assert hub.settings.min_risk_level is HUB_DEFAULTS.min_risk_level


def test_options_override_data_in_one_place() -> None:
    """Settings read the entry's options over its data, and ignore unknown keys."""
    # Given stored data, options on top, and an unknown key
    data = {"min_risk_level": "low", "daily_calls": 5, "something_else": 1}
    options = {"min_risk_level": "critical"}

    # When the settings are parsed
    settings = HubSettings.from_data({**data, **options})

    # Then the option wins, the rest comes through typed, defaults fill the gaps
    assert settings.min_risk_level is RiskLevel.CRITICAL
    assert settings.daily_calls == 5
    assert settings.daily_tokens == HUB_DEFAULTS.daily_tokens
