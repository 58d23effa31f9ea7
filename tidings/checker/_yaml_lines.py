"""Find the YAML line of a JSON pointer inside a message's payload, so that findings (and GitHub
annotations) land on the changed property rather than on the message's name."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tidings.checker._yaml_split import SplitFile, split_file

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=16)
def _read(path: str, mtime_ns: int) -> tuple[str, SplitFile | None] | None:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return text, split_file(text)


@lru_cache(maxsize=1024)
def _compose(text: str) -> yaml.Node | None:
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    return node


def _message_node(path: Path, section: str, name: str) -> tuple[yaml.Node, int] | None:
    """The YAML node of one message and the line offset of the text it was composed from:
    only that message's text when the file splits, else the whole file."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    read = _read(str(path), mtime)
    if read is None:
        return None
    text, split = read
    if split is not None:
        entry = next((e for e in split.entries if e.section == section and e.name == name), None)
        if entry is not None:
            root = _compose(entry.text)
            node = None if root is None else _child(root, name)
            return None if node is None else (node, entry.line - 1)
    root = _compose(text)
    if root is None:
        return None
    sub = _child(root, section)
    node = None if sub is None else _child(sub, name)
    return None if node is None else (node, 0)


def locate_definition(files: list[str] | tuple[str, ...], name: str, pointer: str | None
                      ) -> tuple[str, int, int] | None:
    """(file, 1-based line, column) of the deepest node of `pointer` inside the top-level
    `$defs.<name>` of whichever of `files` declares it, or None."""
    for file in files:
        found = _message_node(Path(file), "$defs", name)
        if found is None:
            continue
        node, offset = found
        best = node
        for raw in (pointer or "").split("/")[1:]:
            key = raw.replace("~1", "/").replace("~0", "~")
            nxt = _child(node, key)
            if nxt is None:
                break
            best = _key_node(node, key) or nxt
            node = nxt
        return file, best.start_mark.line + 1 + offset, best.start_mark.column + 1
    return None


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
    found = _message_node(Path(file), section, name)
    if found is None:
        return None
    node, offset = found
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
    return best.start_mark.line + 1 + offset, best.start_mark.column + 1
