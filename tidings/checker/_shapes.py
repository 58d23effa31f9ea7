"""Small readings of JSON Schema shared by the checker's modules: local `$ref` targets and
the two tuple forms."""

from __future__ import annotations

from typing import Any


def resolve_local_ref(root: Any, ref: str) -> Any | None:
    """The node a local `$ref` (``#``, ``#/$defs/X``) names inside `root`, or None when the ref
    is not local or names nothing."""
    if not ref.startswith("#"):
        return None
    node = root
    frag = ref[1:]
    if not frag:
        return node
    for part in frag.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def tuple_parts(s: dict[str, Any]) -> tuple[list[Any], Any]:
    """(the tuple's position schemas, the schema of the items after them), from 2020-12
    ``prefixItems`` + ``items`` or draft-07 ``items: [...]`` + ``additionalItems``."""
    if isinstance(s.get("prefixItems"), list):
        return list(s["prefixItems"]), s.get("items", s.get("unevaluatedItems", True))
    if isinstance(s.get("items"), list):
        return list(s["items"]), s.get("additionalItems", True)
    return [], s.get("items", True)
