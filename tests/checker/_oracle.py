"""The oracle: random schemas, random mutations, and instances that test the checker's verdicts.

Whenever the checker calls a change BACKWARD-compatible, instances of the OLD schema (as its
producers send them) must validate under the NEW schema; FORWARD: instances of the NEW schema must
validate under the OLD one. Under the `lenient` policy producers send declared fields only, so
instances come from the writer schema with every object that declares properties closed.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from tidings.checker import compare_schemas

STATS: Counter[str] = Counter()
"""mutations / verdicts checked / instances validated / disagreements, for the report."""
DISAGREEMENTS: list[str] = []
"""Every disagreement seen, recorded at once (a later draw may abort the example)."""

NAMES = ["a", "b", "c", "d"]
PATTERNS = ["^a", "^[0-9]+$", "^[a-z]*$"]


def scalar_schemas() -> st.SearchStrategy[dict[str, Any]]:
    string = st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={
            "minLength": st.integers(0, 3),
            "maxLength": st.integers(3, 8),
            "pattern": st.sampled_from(PATTERNS),
            "enum": st.lists(st.sampled_from(["x", "y", "z", "1", "22"]), min_size=1, max_size=3,
                             unique=True),
        },
    )
    number = st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "number"])},
        optional={
            "minimum": st.integers(-5, 0),
            "maximum": st.integers(1, 9),
            "exclusiveMaximum": st.integers(2, 10),
            "multipleOf": st.sampled_from([1, 2, 3, 4, 0.5]),
            "enum": st.lists(st.integers(-3, 6), min_size=1, max_size=3, unique=True),
        },
    )
    other = st.sampled_from([
        {"type": "boolean"}, {"type": "null"}, {"type": ["string", "null"]},
        {"type": ["integer", "string"]}, {"const": "k"}, {},
    ])
    return st.one_of(string, number, other)


def schemas(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 0:
        return scalar_schemas()
    inner = schemas(depth - 1)

    @st.composite
    def objects(draw: st.DrawFn) -> dict[str, Any]:
        names = draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True))
        props = {n: draw(inner) for n in names}
        out: dict[str, Any] = {"type": "object", "properties": props}
        req = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
        if req:
            out["required"] = req
        extra = draw(st.sampled_from(["absent", "false", "schema"]))
        if extra == "false":
            out["additionalProperties"] = False
        elif extra == "schema":
            out["additionalProperties"] = draw(scalar_schemas())
        return out

    arrays = st.fixed_dictionaries(
        {"type": st.just("array"), "items": inner},
        optional={"minItems": st.integers(0, 2), "maxItems": st.integers(2, 4),
                  "uniqueItems": st.booleans()},
    )
    sums = st.tuples(st.sampled_from(["anyOf", "oneOf"]), st.lists(inner, min_size=1, max_size=3)
                     ).map(lambda kb: {kb[0]: kb[1]})
    return st.one_of(scalar_schemas(), objects(), arrays, sums)


def _nodes(schema: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            out += _nodes(sub, (*path, "properties", name))
        if isinstance(schema.get("items"), dict):
            out += _nodes(schema["items"], (*path, "items"))
        if isinstance(schema.get("additionalProperties"), dict):
            out += _nodes(schema["additionalProperties"], (*path, "additionalProperties"))
        for key in ("anyOf", "oneOf"):
            for i, sub in enumerate(schema.get(key) or []):
                out += _nodes(sub, (*path, key, i))
    return out


def _get(schema: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        schema = schema[p]
    return schema


MUTATIONS = [
    "type", "nullable", "enum-add", "enum-drop", "enum-set", "bound", "drop-key", "add-prop",
    "drop-prop", "toggle-required", "close", "open", "wrap-anyof", "drop-branch", "multiple",
    "pattern", "unique", "const", "items", "add-branch", "sum-kind",
]


@st.composite
def mutated(draw: st.DrawFn, old: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A copy of `old` with one random mutation at a random node."""
    new = copy.deepcopy(old)
    path = draw(st.sampled_from(_nodes(new)))
    node = _get(new, path)
    kind = draw(st.sampled_from(MUTATIONS))
    if kind == "type":
        node["type"] = draw(st.sampled_from(["string", "integer", "number", "boolean", "object",
                                             "array", ["integer", "null"]]))
    elif kind == "nullable" and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    elif kind == "enum-add" and isinstance(node.get("enum"), list):
        node["enum"] = [*node["enum"], draw(st.sampled_from(["w", 7, "x", 1]))]
    elif kind == "enum-drop" and isinstance(node.get("enum"), list) and len(node["enum"]) > 1:
        node["enum"] = node["enum"][1:]
    elif kind == "enum-set":
        node["enum"] = draw(st.lists(st.sampled_from(["x", "y", 1, 2, None]), min_size=1,
                                     max_size=3, unique=True))
    elif kind == "bound":
        key = draw(st.sampled_from(["minLength", "maxLength", "minimum", "maximum",
                                    "exclusiveMinimum", "exclusiveMaximum", "minItems",
                                    "maxItems"]))
        node[key] = draw(st.integers(0, 6))
    elif kind == "drop-key" and node:
        del node[draw(st.sampled_from(sorted(node)))]
    elif kind == "add-prop" and node.get("type") == "object":
        node.setdefault("properties", {})[draw(st.sampled_from(NAMES))] = draw(scalar_schemas())
    elif kind == "drop-prop" and node.get("properties"):
        name = draw(st.sampled_from(sorted(node["properties"])))
        del node["properties"][name]
    elif kind == "toggle-required" and node.get("properties"):
        name = draw(st.sampled_from(sorted(node["properties"])))
        req = list(node.get("required", []))
        node["required"] = [r for r in req if r != name] if name in req else [*req, name]
    elif kind == "close" and node.get("type") == "object":
        node["additionalProperties"] = False
    elif kind == "open" and node.get("type") == "object":
        node.pop("additionalProperties", None)
    elif kind == "wrap-anyof" and path:
        parent = _get(new, path[:-1])
        parent[path[-1]] = {"anyOf": [node, draw(scalar_schemas())]}
    elif kind == "drop-branch" and len(node.get("anyOf") or []) > 1:
        node["anyOf"] = node["anyOf"][1:]
    elif kind == "add-branch" and ("anyOf" in node or "oneOf" in node):
        key = "anyOf" if "anyOf" in node else "oneOf"
        node[key] = [*node[key], draw(scalar_schemas())]
    elif kind == "sum-kind" and ("anyOf" in node or "oneOf" in node):
        key, other = ("anyOf", "oneOf") if "anyOf" in node else ("oneOf", "anyOf")
        node[other] = node.pop(key)
    elif kind == "multiple":
        node["multipleOf"] = draw(st.sampled_from([1, 2, 3, 6, 0.5]))
    elif kind == "pattern":
        node["pattern"] = draw(st.sampled_from(PATTERNS))
    elif kind == "unique":
        node["uniqueItems"] = not node.get("uniqueItems", False)
    elif kind == "const":
        node["const"] = draw(st.sampled_from(["x", 1, None]))
    elif kind == "items" and node.get("type") == "array":
        node["items"] = draw(scalar_schemas())
    return kind, new


def producer_view(schema: Any) -> Any:
    """What lenient producers send: objects that declare properties carry no others."""
    if isinstance(schema, list):
        return [producer_view(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: producer_view(v) if k in ("items", "anyOf", "oneOf", "additionalProperties") else v
           for k, v in schema.items()}
    if "properties" in schema:
        out["properties"] = {n: producer_view(s) for n, s in schema["properties"].items()}
        if schema["properties"] and "additionalProperties" not in schema:
            out["additionalProperties"] = False
    return out


def _satisfiable(schema: Any) -> bool:
    try:
        Draft202012Validator.check_schema(schema)
    except Exception:
        return False
    return True


def check_verdicts(draw: st.DrawFn, old: dict[str, Any], new: dict[str, Any],
                   samples: int = 4) -> list[str]:
    """Disagreements between the checker's verdicts on old -> new and real instances."""
    STATS["mutations"] += 1
    problems: list[str] = []
    for policy in ("lenient", "strict"):
        changes = compare_schemas(old, new, policy=policy)  # type: ignore[arg-type]
        for direction, writer, reader in (("backward", old, new), ("forward", new, old)):
            broken = any(getattr(c, f"breaks_{direction}") for c in changes)
            if broken:
                continue
            STATS["compatible verdicts"] += 1
            view = producer_view(writer) if policy == "lenient" else writer
            if not _satisfiable(view):
                continue
            validator = Draft202012Validator(reader)
            # The producer view only removes values: an instance must fit the writer as written.
            writer_validators = [Draft202012Validator(view), Draft202012Validator(writer)]
            strategy = from_schema(view)
            for _ in range(samples):
                try:
                    instance = draw(strategy)
                except Exception:  # unsatisfiable writer schema: nothing to send
                    STATS["unsatisfiable writers"] += 1
                    break
                if not all(v.is_valid(instance) for v in writer_validators):
                    STATS["instances outside the writer, skipped"] += 1
                    continue
                STATS["instances validated"] += 1
                if not validator.is_valid(instance):
                    STATS["disagreements"] += 1
                    problems.append(
                        f"{policy} {direction}: {instance!r} fits the writer {writer} but not the "
                        f"reader {reader}; findings: {[(c.rule.name, c.pointer) for c in changes]}")
                    DISAGREEMENTS.append(problems[-1])
                    break
    return problems
