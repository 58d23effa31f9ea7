"""YAML to JSON-like data, remembering where every key and value sits in the file.

The resolver follows the YAML 1.2 core schema (what yaml-language-server uses): only
`true`/`false` are booleans (so `NO`, `on` and `yes` stay text) and dates stay text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tidings.catalog._issues import CatalogIssue
from tidings.catalog._model import Location

Path = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MAX_NODES = 1_000_000


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars: PyYAML's own words for syntax errors."""


class _FastLoader(getattr(yaml, "CSafeLoader", _Loader)):  # type: ignore[misc]
    """The same on libyaml when available (several times faster; terser error messages)."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """`BaseResolver.resolve` without path resolvers (none are registered), remembering the
        tag of each plain scalar: a catalog repeats the same few words thousands of times."""
        if kind is not ScalarNode:
            return _SEQ if kind is SequenceNode else _MAP
        if not implicit[0]:
            return _STR
        tag = _PLAIN_TAGS.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(value) <= 64 and len(_PLAIN_TAGS) < 100_000:  # bounded: words, not prose
                _PLAIN_TAGS[value] = tag
        return tag

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """Nothing to track: no path resolvers are registered."""

    def ascend_resolver(self) -> None:
        """Nothing to track: no path resolvers are registered."""


_PLAIN_TAGS: dict[str, str] = {}


_FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    (_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    (_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        _FLOAT,
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    (_NULL, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (_MERGE, r"^(?:<<)$", "<"),
]:
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


@dataclass
class ParsedFile:
    """One parsed YAML file: its data and the YAML nodes of every key and value by path."""

    file: str
    data: Any
    values: dict[Path, Node] = field(default_factory=dict)
    keys: dict[Path, Node] = field(default_factory=dict)

    def location(self, path: Path, *, key: bool = False) -> Location:
        """Where `path` is (its key when `key`), or its nearest existing ancestor."""
        path = tuple(path)
        while True:
            node = (self.keys.get(path) if key else None) or self.values.get(path)
            if node is not None:
                mark = node.start_mark
                return Location(file=self.file, line=mark.line + 1, column=mark.column + 1)
            if not path:
                return Location(file=self.file, line=1, column=1)
            path = path[:-1]


def _mark_location(file: str, mark: Any) -> Location:
    if mark is None:
        return Location(file=file, line=1, column=1)
    return Location(file=file, line=mark.line + 1, column=mark.column + 1)


def _hint(problem: str) -> str:
    if "mapping values are not allowed" in problem:
        return "; quote values that contain ': ' and check the indentation"
    if "'\\t'" in problem or "tab" in problem:
        return "; indent with spaces, not tabs"
    if "could not find expected ':'" in problem:
        return "; every key needs a ':' after it, and quoted text must be closed"
    if "quoted scalar" in problem:
        return "; add the missing closing quote"
    if "flow " in problem:
        return "; close the `{` or `[`, and quote text that contains , [ ] { }"
    if "found undefined alias" in problem:
        return "; define the anchor (&name) before using the alias (*name)"
    return "; fix the YAML syntax at this place"


class _Converter:
    def __init__(self, parsed: ParsedFile, issues: list[CatalogIssue]) -> None:
        self.parsed = parsed
        self.issues = issues
        self.active: set[int] = set()
        self.count = 0

    def issue(self, node: Node, message: str) -> None:
        self.issues.append(
            CatalogIssue(
                location=_mark_location(self.parsed.file, node.start_mark), message=message
            )
        )

    def convert(self, node: Node, path: Path) -> Any:
        self.count += 1
        if self.count > _MAX_NODES:
            raise _TooLarge(node)
        self.parsed.values.setdefault(path, node)
        if isinstance(node, ScalarNode):
            if node.tag == _STR:  # most scalars: skip the call
                return str(node.value)
            return self.scalar(node)
        if id(node) in self.active:
            self.issue(node, "this YAML alias refers to itself; remove the recursive alias")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self.issue(node, f"unsupported YAML tag {node.tag!r}; remove the tag")
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, MappingNode)
            if node.tag != _MAP:
                self.issue(node, f"unsupported YAML tag {node.tag!r}; remove the tag")
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        self.issue(source, "a '<<' merge takes a mapping or a list of mappings")
                        continue
                    value = self.convert(source, path)
                    if isinstance(value, dict):
                        for k, v in value.items():
                            merged.setdefault(k, v)
                continue
            if not isinstance(key_node, ScalarNode):
                self.issue(key_node, "a key must be plain text, not a list or mapping")
                continue
            key = str(key_node.value)
            if key in result:
                self.issue(
                    key_node,
                    f"duplicate key {key!r} (first at line {self._line(path, key)}); "
                    "keep one of them",
                )
                continue
            where = (*path, key)
            self.parsed.keys[where] = key_node
            result[key] = self.convert(value_node, where)
        for k, v in merged.items():
            result.setdefault(k, v)
        return result

    def _line(self, path: Path, key: str) -> int:
        node = self.parsed.keys.get((*path, key))
        return node.start_mark.line + 1 if node is not None else 0

    def scalar(self, node: ScalarNode) -> Any:
        value = str(node.value)
        tag = node.tag
        try:
            if tag == _STR:
                return value
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return value.lower() == "true"
            if tag == _INT:
                if value.startswith(("0o", "0x")):
                    return int(value[2:], 8 if value[1] == "o" else 16)
                return int(value, 10)
            if tag == _FLOAT:
                lowered = value.lower()
                if lowered.endswith(".inf"):
                    return -math.inf if lowered.startswith("-") else math.inf
                if lowered == ".nan":
                    return math.nan
                return float(value)
        except ValueError:
            self.issue(node, f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}; fix the value")
            return value
        self.issue(node, f"unsupported YAML tag {tag!r}; remove the tag or quote the value")
        return value


class _TooLarge(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def parse_yaml(file: str, text: str, issues: list[CatalogIssue]) -> ParsedFile | None:
    """Parse one YAML document; append problems to `issues` and return None if it is unusable."""
    parsed = ParsedFile(file=file, data=None)
    try:
        documents = list(yaml.compose_all(text, Loader=_FastLoader))
    except yaml.YAMLError:
        documents = []  # parse again below, for PyYAML's clearer message
    else:
        return _convert(parsed, documents, issues)
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or exc.context or "invalid YAML"
        mark = exc.problem_mark or exc.context_mark
        if exc.problem and exc.context:
            start = exc.context_mark
            where = ""
            if start is not None and mark is not None and start.line != mark.line:
                where = f" at line {start.line + 1}"
            problem += f" ({exc.context}{where})"
        issues.append(
            CatalogIssue(
                location=_mark_location(file, mark),
                message=f"invalid YAML: {problem}{_hint(problem)}",
            )
        )
        return None
    except yaml.YAMLError as exc:
        issues.append(
            CatalogIssue(location=_mark_location(file, None), message=f"invalid YAML: {exc}")
        )
        return None
    return _convert(parsed, documents, issues)  # pragma: no cover - libyaml rejected it


def _convert(
    parsed: ParsedFile, composed: Sequence[Node | None], issues: list[CatalogIssue]
) -> ParsedFile | None:
    file = parsed.file
    documents = [d for d in composed if d is not None]
    if not documents:
        parsed.data = {}
        return parsed
    if len(documents) > 1:
        issues.append(
            CatalogIssue(
                location=_mark_location(file, documents[1].start_mark),
                message="a catalog file holds one YAML document; move this one to its own file",
            )
        )
        return None
    before = len(issues)
    try:
        parsed.data = _Converter(parsed, issues).convert(documents[0], ())
    except _TooLarge as exc:
        issues.append(
            CatalogIssue(
                location=_mark_location(file, exc.node.start_mark),
                message="the file expands to more than a million YAML nodes; remove alias bombs",
            )
        )
        return None
    return parsed if len(issues) == before else None
