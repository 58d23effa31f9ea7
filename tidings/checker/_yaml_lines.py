"""Find the YAML line of a JSON pointer inside a message's payload, so that findings (and GitHub
annotations) land on the changed property rather than on the message's name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml


@lru_cache(maxsize=64)
def _compose(path: str, mtime_ns: int) -> yaml.Node | None:
    try:
        node: yaml.Node | None = yaml.compose(
            Path(path).read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return node


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                value: yaml.Node = v
                return value
    elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
        child: yaml.Node = node.value[int(key)]
        return child
    return None


def _key_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k
    return None


def locate(file: str, section: str, name: str, pointer: str | None) -> tuple[int, int] | None:
    """1-based (line, column) of the deepest node of `pointer` that exists under
    `<section>.<name>.payload` in `file`, or None when the file or message cannot be read."""
    path = Path(file)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    root = _compose(str(path), mtime)
    if root is None:
        return None
    node = root
    for key in (section, name):
        nxt = _child(node, key)
        if nxt is None:
            return None
        node = nxt
    best = _key_node(node, "payload")
    payload = _child(node, "payload")
    if payload is None or best is None:
        return None
    node = payload
    for raw in (pointer or "").split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        key_node = _key_node(node, key)
        nxt = _child(node, key)
        if nxt is None:
            break
        best = key_node or nxt
        node = nxt
    return best.start_mark.line + 1, best.start_mark.column + 1
