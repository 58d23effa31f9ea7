"""AsyncAPI documents (and imported catalogs) as text: YAML in document order, or JSON."""

from __future__ import annotations

import json
from typing import Any

import yaml


def dump_document(doc: dict[str, Any], as_json: bool) -> str:
    """`doc` as YAML (keys in document order) or JSON; the same document gives the same text."""
    if as_json:
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100))
