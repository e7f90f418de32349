"""How the values users type become settings: times of day, choices, defaults."""

from __future__ import annotations

from datetime import time
from typing import Any

from pydantic import BaseModel

from .const import MOTION_DEFAULT, MOTION_OFF, MOTION_ON


def time_of_day(value: Any) -> time | None:
    """A user's time of day as a naive time to the second; None when empty.

    Accepts ``time`` objects and ``"22:00"``, ``"22:00:00"``, ``"22:00:00.5"``;
    a time zone or offset given with it is dropped (quiet hours are wall-clock
    times in Home Assistant's zone). Raises ValueError for anything else.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = time.fromisoformat(value.strip())
    if not isinstance(value, time):
        msg = f"not a time of day: {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - pydantic reports ValueErrors
    return value.replace(tzinfo=None, microsecond=0)


def source_default(model: type[BaseModel], name: str) -> Any:
    """The default of a source settings field, defined by its engine model."""
    return model.model_fields[name].default


def motion_choice(value: Any) -> str:
    """A camera's stored "Alert on any motion" as its form choice.

    Cameras saved before the choice existed hold a boolean: on stays on; off
    was the form's default, so it becomes Default (as the hub).
    """
    if value is True:
        return MOTION_ON
    if value in (MOTION_ON, MOTION_OFF):
        return str(value)
    return MOTION_DEFAULT


def motion_override(value: Any) -> bool | None:
    """A camera's "Alert on any motion" for its alert rules (None: the hub's)."""
    choice = motion_choice(value)
    return None if choice == MOTION_DEFAULT else choice == MOTION_ON
