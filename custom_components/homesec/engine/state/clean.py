"""Values every supported database can hold, made from what the pipeline wrote.

Postgres refuses NUL characters and lone surrogates (file names that are not
UTF-8) in text columns and non-finite numbers in JSON; SQLite refuses lone
surrogates. JSON documents keep their text (escaped, both databases take it).
"""

from __future__ import annotations

import math
import sys
from typing import Any

REPLACEMENT = "\ufffd"


def clean_text(value: str, max_chars: int | None = None) -> str:
    """``value`` without NUL characters or lone surrogates, at most ``max_chars``."""
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    if not value.isascii():
        # Paired surrogates become their character; lone ones the replacement.
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value if max_chars is None else value[:max_chars]


def finite_json(value: Any) -> Any:
    """A JSON-ready document with NaN as 0 and infinities as the largest float."""
    if isinstance(value, float) and not math.isfinite(value):
        return 0.0 if math.isnan(value) else math.copysign(sys.float_info.max, value)
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_json(item) for item in value]
    return value
