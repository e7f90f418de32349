"""strings.json is complete and translations/en.json is generated from it."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import homeassistant

from custom_components.homesec.clip_access import Reason

INTEGRATION = Path(__file__).parents[1] / "custom_components" / "homesec"
REFERENCE = re.compile(r"^\[%key:([a-z0-9_:]+)%\]$")


def resolve(value: Any, common: dict[str, Any]) -> Any:
    """Replace ``[%key:common::...%]`` references by Home Assistant's text."""
    if isinstance(value, dict):
        return {key: resolve(item, common) for key, item in value.items()}
    if isinstance(value, str) and (match := REFERENCE.match(value)):
        node: Any = common
        for part in match.group(1).split("::"):
            node = node[part]
        return node
    return value


def test_english_translation_is_strings_json_resolved() -> None:
    """translations/en.json equals strings.json with references resolved."""
    # Given strings.json and Home Assistant's common strings
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    core = Path(homeassistant.__file__).parent / "strings.json"
    common = json.loads(core.read_text())

    # When the references are resolved
    expected = resolve(strings, common)

    # Then en.json holds exactly that (regenerate it from strings.json if not)
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    assert english == expected


def test_every_flow_error_has_a_text() -> None:
    """Each error key the camera flow can return is translated."""
    # Given the error keys the camera flow and the source checks return
    source = "".join(
        path.read_text()
        for path in (
            INTEGRATION / "camera_flow.py",
            INTEGRATION / "source_checks.py",
            *(INTEGRATION / "source_kinds").glob("*.py"),
        )
    )
    keys = {
        "".join(found)
        for found in re.findall(
            r'(?:return |= |else )"([a-z]+_[a-z_]+)"|: "([a-z]+_[a-z_]+)"\}', source
        )
    }
    assert {"folder_not_found", "name_exists", "port_in_use", "invalid_auth"} <= keys

    # When the subentry errors of strings.json are read
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    errors = strings["config_subentries"]["camera"]["error"]

    # Then every key has a text
    assert keys <= set(errors)


def test_every_hub_flow_error_has_a_text() -> None:
    """Each error key the hub flow and its checks return is translated."""
    # Given the error keys of the hub flow's checks
    source = "".join(
        (INTEGRATION / name).read_text()
        for name in (
            "config_flow.py",
            "hub_checks.py",
            "detector_kinds.py",
            "analyzer_checks.py",
        )
    )
    keys = set(re.findall(r'"([a-z]+_[a-z_]+)"\}', source))
    assert {"folder_not_writable", "invalid_dsn", "invalid_auth"} <= keys

    # When the hub flow's errors in strings.json are read
    strings = json.loads((INTEGRATION / "strings.json").read_text())

    # Then every key has a text, and so has every exception raised
    assert keys <= set(strings["config"]["error"])
    raised = set()
    for path in INTEGRATION.rglob("*.py"):
        raised |= set(
            re.findall(
                r'translation_domain=DOMAIN,\s+translation_key="([a-z_]+)"',
                path.read_text(),
            )
        )
    raised |= {reason.value for reason in Reason}  # refusals, by their reason
    assert {"spool_unavailable", "no_clip"} <= raised
    assert raised <= set(strings["exceptions"])


def test_every_form_field_has_a_description() -> None:
    """Each field of every flow, options and repair form has data_description."""
    # Given every form step of strings.json
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    steps = {
        **{f"config {k}": v for k, v in strings["config"]["step"].items()},
        **{f"options {k}": v for k, v in strings["options"]["step"].items()},
    }
    for kind, flow in strings["config_subentries"].items():
        steps |= {f"{kind} {k}": v for k, v in flow["step"].items()}
    for issue, texts in strings["issues"].items():
        fix_steps = texts.get("fix_flow", {}).get("step", {})
        steps |= {f"{issue} {k}": v for k, v in fix_steps.items()}

    # When fields without a description are looked for
    missing = {
        name: sorted(set(step.get("data", {})) - set(step.get("data_description", {})))
        for name, step in steps.items()
    }

    # Then there are none
    assert {name: keys for name, keys in missing.items() if keys} == {}


URL = re.compile(r"(?:https?|ftps?|rtsps?|rtmp|mqtts?)://\S|www\.\S")


def _texts(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, str):
        return [(path, node)]
    if isinstance(node, dict):
        return [
            item
            for key, value in node.items()
            for item in _texts(value, f"{path}.{key}")
        ]
    return []


def test_translation_strings_hold_no_urls() -> None:
    """hassfest refuses URLs in translations: they come as description placeholders."""
    # Given strings.json and every translation
    files = [
        INTEGRATION / "strings.json",
        *sorted((INTEGRATION / "translations").glob("*.json")),
    ]

    # When each string is searched for an address
    offenders = [
        f"{file.name}{path}: {text}"
        for file in files
        for path, text in _texts(json.loads(file.read_text()))
        if URL.search(text)
    ]

    # Then there is none
    assert not offenders
