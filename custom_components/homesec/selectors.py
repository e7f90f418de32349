"""Selectors shared by HomeSec's forms (hub, options and camera flows)."""

from __future__ import annotations

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


def box(
    low: float, high: float, step: float, unit: str | None = None
) -> NumberSelector:
    """A number typed in a box."""
    config = NumberSelectorConfig(
        min=low, max=high, step=step, mode=NumberSelectorMode.BOX
    )
    if unit:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


def choice(
    options: list[str], key: str, *, multiple: bool = False, dropdown: bool = False
) -> SelectSelector:
    """A list of translated choices."""
    return SelectSelector(
        SelectSelectorConfig(
            options=options,
            translation_key=key,
            multiple=multiple,
            mode=SelectSelectorMode.DROPDOWN if dropdown else SelectSelectorMode.LIST,
        )
    )


def activity_choice(options: list[str], *, custom: bool = False) -> SelectSelector:
    """Activity types to choose from (known ones translated; ``custom``: add own)."""
    return SelectSelector(
        SelectSelectorConfig(
            options=options,
            translation_key="activity_type",
            multiple=True,
            custom_value=custom,
            mode=SelectSelectorMode.DROPDOWN,
        )
    )
