"""Canonical JSON: the one text form tidings hashes and compares JSON-like values by."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> str:
    """`value` as compact JSON with sorted keys and raw (not escaped) non-ASCII text: equal
    JSON-like values give equal texts. Values JSON cannot hold (dates, paths) are written as
    their `str()`."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
