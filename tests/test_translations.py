"""strings.json is complete; en.json is generated from it; every language matches it."""

from __future__ import annotations

from collections import Counter
from functools import cache
import json
from pathlib import Path
import re
import string
from typing import Any

import homeassistant
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.homesec.clip_access import Reason

INTEGRATION = Path(__file__).parents[1] / "custom_components" / "homesec"
CORE = Path(homeassistant.__file__).parent
REFERENCE = re.compile(r"^\[%key:([a-z0-9_:]+)%\]$")
TRANSLATIONS = sorted(
    path.stem
    for path in (INTEGRATION / "translations").glob("*.json")
    if path.stem != "en"
)
"""Every language besides English that HomeSec ships."""


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


PLACEHOLDER = re.compile(r"\{\w+\}")
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


def _language(language: str) -> dict[str, Any]:
    """A translation file, which must be valid JSON."""
    data: dict[str, Any] = json.loads(
        (INTEGRATION / "translations" / f"{language}.json").read_text()
    )
    return data


def _leaves(node: Any, path: str = "") -> dict[str, Any]:
    """Every value that is not an object, by its dotted key."""
    if not isinstance(node, dict):
        return {path: node}
    return {
        key: value
        for name, child in node.items()
        for key, value in _leaves(child, f"{path}.{name}").items()
    }


def _placeholders(text: str) -> set[str]:
    """The placeholders Home Assistant's loader compares with English."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return {"<unbalanced braces>"}


@cache
def _core_wordings(language: str, references: frozenset[str]) -> dict[str, str]:
    """How Home Assistant's own integrations word each reference in a language."""
    votes: dict[str, Counter[str]] = {reference: Counter() for reference in references}
    for strings in sorted((CORE / "components").glob("*/strings.json")):
        translation = strings.parent / "translations" / f"{language}.json"
        uses = [
            (path, text)
            for path, text in _texts(json.loads(strings.read_text()))
            if text in references
        ]
        if uses and translation.exists():
            worded = dict(_texts(json.loads(translation.read_text())))
            for path, reference in uses:
                if path in worded:
                    votes[reference][worded[path]] += 1
    return {
        reference: counter.most_common(1)[0][0]
        for reference, counter in votes.items()
        if counter
    }


@pytest.mark.parametrize(
    "language",
    ["de", "fr", "es", "nl"],
)
def test_required_language_is_shipped(language: str) -> None:
    """HomeSec speaks German, French, Spanish and Dutch besides English."""
    # Given the translation files HomeSec ships
    shipped = set(TRANSLATIONS)

    # When the required language is looked for
    found = language in shipped

    # Then it is there
    assert found


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_has_exactly_the_keys_of_strings_json(language: str) -> None:
    """No text of strings.json is missing from a language, none is left over."""
    # Given the keys of strings.json
    expected = set(_leaves(json.loads((INTEGRATION / "strings.json").read_text())))

    # When the language's file is read
    texts = _leaves(_language(language))

    # Then it has the same keys, each a text
    assert {
        "missing": sorted(expected - set(texts)),
        "extra": sorted(set(texts) - expected),
        "not a text": sorted(k for k, v in texts.items() if not isinstance(v, str)),
        "empty": sorted(key for key, text in texts.items() if text == ""),
    } == {"missing": [], "extra": [], "not a text": [], "empty": []}


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_keeps_every_placeholder(language: str) -> None:
    """Each text has its English text's placeholders (else HA shows the English)."""
    # Given the English texts
    english = dict(_texts(_language("en")))

    # When each translated text's placeholders are compared with the English
    wrong = {
        key: (sorted(_placeholders(text)), sorted(_placeholders(english[key])))
        for key, text in _texts(_language(language))
        if key in english and _placeholders(text) != _placeholders(english[key])
    }

    # Then they are the same everywhere
    assert wrong == {}


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_words_references_as_home_assistant_does(language: str) -> None:
    """Where strings.json borrows Home Assistant's text, a language has HA's words.

    Home Assistant resolves ``[%key:...%]`` only when it builds its own
    translations; in a custom integration's file a reference would show as is.
    """
    # Given the references of strings.json and Home Assistant's words for them
    strings = dict(_texts(json.loads((INTEGRATION / "strings.json").read_text())))
    references = {key: text for key, text in strings.items() if REFERENCE.match(text)}
    words = _core_wordings(language, frozenset(references.values()))
    assert len(references) >= 5

    # When the language's texts are read
    texts = dict(_texts(_language(language)))

    # Then each borrowed text is Home Assistant's, and no reference is left
    assert {key: texts.get(key) for key in references} == {
        key: words.get(reference) for key, reference in references.items()
    }
    assert [key for key, text in texts.items() if "[%key:" in text] == []


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translation_is_translated(language: str) -> None:
    """Sentences differ from the English (a copy of en.json is no translation).

    A text of placeholders only, such as a date's ``{weekday} {day} {month}
    {year}``, has no words to translate and may rightly equal the English.
    """
    # Given the English texts
    english = dict(_texts(_language("en")))

    # When the language's texts of three words or more are compared with them
    same = [
        key
        for key, text in _texts(_language(language))
        if len(text.split()) >= 3
        and text == english.get(key)
        and re.search(r"[^\W\d_]", PLACEHOLDER.sub("", text))
    ]

    # Then none is still English
    assert same == []


async def test_home_assistant_loads_homesecs_german(
    hass: HomeAssistant, disable_translations_once: None
) -> None:
    """Home Assistant's loader gives every German text, none fallen back to English."""
    # Given Home Assistant set to German
    await hass.config.async_update(language="de")
    german = _language("de")

    # When its translation loader fetches HomeSec's texts of every category
    loaded: dict[str, str] = {}
    for category in german:
        loaded |= await async_get_translations(hass, "de", category, ["homesec"])

    # Then they are de.json's (a placeholder mismatch would bring the English)
    assert loaded == {f"component.homesec{key}": text for key, text in _texts(german)}
    assert loaded["component.homesec.config.step.user.title"] == "HomeSec einrichten"
    assert loaded["component.homesec.entity.button.record_now.name"] == (
        "Jetzt aufnehmen"
    )
