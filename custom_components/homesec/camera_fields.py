"""The camera form's detection and zone fields, and how they are checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
import probatio

from .camera_settings import CAMERA_DEFAULTS, DETECTION_KEYS
from .const import (
    ANALYZER_NONE,
    CONF_DETECT_CLASSES,
    CONF_MASKS,
    CONF_MIN_BOX_H_RATIO,
    CONF_MIN_CONFIDENCE,
    CONF_MIN_HITS,
    CONF_NOTIFY_ENTITIES,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_SERVICES,
    CONF_REQUIRE_ZONE,
    CONF_ZONES,
    DETECTOR_MOTION,
)
from .engine.detect.zones import (
    MAX_POINTS,
    MAX_POLYGONS,
    Polygon,
    PolygonError,
    Zone,
    masks_text,
    parse_masks,
    parse_zones,
    zones_text,
)
from .hub_fields import notify_services
from .selectors import activity_choice, box, choice
from .settings import OBJECT_GROUPS, HubSettings

CAMERA_RULE_KEYS = (*DETECTION_KEYS, CONF_ZONES, CONF_MASKS, CONF_REQUIRE_ZONE)
"""What the detection and zones steps store in the camera's data."""
ZONE_EXAMPLE = "driveway: 0.1,0.5 0.6,0.5 0.6,1 0.1,1"
MASK_EXAMPLE = "0.7,0 1,0 1,0.3 0.7,0.3"


def detection_schema(hass: HomeAssistant, hub: HubSettings) -> probatio.Schema:
    """The camera's own rules and alert targets (empty: the hub's).

    Detection rules only with a detection model, activities only with a
    summary model.
    """
    fields: dict[Any, Any] = {}
    if hub.detector != DETECTOR_MOTION:
        fields |= {
            probatio.Optional(CONF_DETECT_CLASSES): choice(
                list(OBJECT_GROUPS), CONF_DETECT_CLASSES, multiple=True
            ),
            probatio.Optional(CONF_MIN_CONFIDENCE): box(0.05, 1, 0.05),
            probatio.Optional(CONF_MIN_BOX_H_RATIO): box(0, 1, 0.05),
            probatio.Optional(CONF_MIN_HITS): box(1, 10, 1),
        }
    if hub.analyzer != ANALYZER_NONE:
        fields[probatio.Optional(CONF_NOTIFY_ON_ACTIVITY_TYPES)] = activity_choice(
            hub.activities
        )
    fields |= {
        probatio.Optional(CONF_NOTIFY_ENTITIES): EntitySelector(
            EntitySelectorConfig(domain="notify", multiple=True)
        ),
        probatio.Optional(CONF_NOTIFY_SERVICES): SelectSelector(
            SelectSelectorConfig(
                options=notify_services(hass),
                multiple=True,
                custom_value=True,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
    }
    return probatio.Schema(fields)


def hub_rules_text(hub: HubSettings) -> dict[str, str]:
    """The hub's values the empty fields follow, for the form's description."""
    return {
        "hub_classes": ", ".join(hub.detect_classes),
        "hub_confidence": f"{hub.min_confidence:g}",
        "hub_box": f"{hub.min_box_h_ratio:g}",
        "hub_hits": str(hub.min_hits),
    }


def detection_data(
    user_input: Mapping[str, Any],
    previous: Mapping[str, Any],
    schema: probatio.Schema,
) -> dict[str, Any]:
    """What the detection step stores: the fields given; those not shown as saved."""
    shown = {str(key) for key in schema.schema}
    given = {key: previous[key] for key in DETECTION_KEYS if key in previous}
    given = {key: value for key, value in given.items() if key not in shown}
    return given | {
        key: user_input[key]
        for key in DETECTION_KEYS
        if user_input.get(key) not in (None, "", [])
    }


def zones_schema() -> probatio.Schema:
    """Zones, masks, and whether alerts need an object in a zone."""
    text = TextSelector(TextSelectorConfig(multiline=True))
    return probatio.Schema(
        {
            probatio.Optional(CONF_ZONES): text,
            probatio.Optional(CONF_MASKS): text,
            probatio.Required(
                CONF_REQUIRE_ZONE, default=CAMERA_DEFAULTS.require_zone
            ): BooleanSelector(),
        }
    )


def zone_placeholders() -> dict[str, str]:
    """Examples and limits for the zones step's texts."""
    return {
        "zone_example": ZONE_EXAMPLE,
        "mask_example": MASK_EXAMPLE,
        "max_points": str(MAX_POINTS),
        "max_areas": str(MAX_POLYGONS),
        "line": "",
    }


def read_areas(
    user_input: Mapping[str, Any],
) -> tuple[tuple[Zone, ...], tuple[Polygon, ...], dict[str, str], str]:
    """Zones, masks, form errors and the line of the first error ("" if none)."""
    zones: tuple[Zone, ...] = ()
    masks: tuple[Polygon, ...] = ()
    errors: dict[str, str] = {}
    line = ""
    try:
        zones = parse_zones(str(user_input.get(CONF_ZONES) or ""))
    except PolygonError as err:
        errors[CONF_ZONES], line = err.key, str(err.line)
    try:
        masks = parse_masks(str(user_input.get(CONF_MASKS) or ""))
    except PolygonError as err:
        errors[CONF_MASKS] = err.key
        line = line or str(err.line)
    if user_input.get(CONF_REQUIRE_ZONE) and not zones and not errors:
        errors[CONF_REQUIRE_ZONE] = "require_zone_without_zones"
    return zones, masks, errors, line


def areas_data(
    zones: tuple[Zone, ...], masks: tuple[Polygon, ...], require_zone: bool
) -> dict[str, Any]:
    """What the zones step stores (the texts written the one way)."""
    return {
        CONF_ZONES: zones_text(zones),
        CONF_MASKS: masks_text(masks),
        CONF_REQUIRE_ZONE: require_zone,
    }
