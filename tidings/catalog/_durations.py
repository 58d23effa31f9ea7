"""Durations in catalogs: a number of seconds or a number with a unit (500ms, 1s, 5m, 1h)."""

from __future__ import annotations

import re

DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h)$"
_DURATION = re.compile(DURATION_PATTERN)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
DURATION_HELP = "write a number of seconds or a number with a unit: 500ms, 1s, 5m, 1h"


def parse_duration(value: object) -> float:
    """Seconds as a float; ValueError (saying how to write one) for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; {DURATION_HELP}")
    if isinstance(value, int | float):
        if value < 0 or value != value or value == float("inf"):
            raise ValueError(f"{value!r} is not a duration; {DURATION_HELP}")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            number = value.strip()[: -len(match.group(2))]
            return float(number) * _UNITS[match.group(2)]
    raise ValueError(f"{value!r} is not a duration; {DURATION_HELP}")
