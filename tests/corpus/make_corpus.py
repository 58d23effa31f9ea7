"""Writes the schema corpus under tests/corpus/schemas and its example payloads under
tests/corpus/examples (run: python tests/corpus/make_corpus.py; the output is committed).

Authored for tidings' tests: webhook-like events in JSON Schema drafts 7, 2019-09 and 2020-12,
shared schema files referred to by `$id` and by path (JSON and YAML), draft-7 `definitions` and
tuple `items`, `dependencies`, 2019-09 `$recursiveRef`, an unknown keyword
(`tsAdditionalProperties`), nullable formats, type arrays, `const`, `enum` with null, `oneOf` of
objects, `additionalProperties` schemas, `patternProperties`, recursion and big integers.
Deterministic (seeded), so regenerating gives the same files.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASE = "https://corpus.tidings.example"
DRAFTS = [
    "http://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
]
GROUPS = ["check_run", "issue", "pull_request", "release", "deployment", "member", "label",
          "milestone", "package", "project", "push", "star", "team", "workflow_job",
          "discussion", "fork", "gollum", "marketplace", "ping", "repository", "security",
          "sponsorship", "status", "watch", "merge_group"]
ACTIONS = ["created", "deleted", "edited", "completed", "requested", "opened", "closed",
           "reopened", "assigned", "labeled", "synchronized", "published"]

USER = {  # draft 7, found by its `$id`
    "$schema": DRAFTS[0],
    "$id": f"{BASE}/common/user.schema.json",
    "title": "User",
    "type": "object",
    "required": ["login", "id", "type", "site_admin"],
    "properties": {
        "login": {"type": "string"},
        "id": {"type": "integer"},
        "node_id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "email": {"type": ["string", "null"], "format": "email"},
        "avatar_url": {"type": "string", "format": "uri"},
        "type": {"type": "string", "enum": ["Bot", "User", "Organization"]},
        "site_admin": {"type": "boolean"},
        "starred_at": {"type": "string", "format": "date-time"},
    },
    "additionalProperties": False,
}
REPOSITORY = {  # 2019-09 with its own $defs and a ref to the user by `$id`
    "$schema": DRAFTS[1],
    "$id": f"{BASE}/common/repository.schema.json",
    "type": "object",
    "required": ["id", "name", "full_name", "private", "owner", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "full_name": {"type": "string"},
        "private": {"type": "boolean"},
        "owner": {"$ref": "user.schema.json"},
        "html_url": {"type": "string", "format": "uri"},
        "description": {"type": ["string", "null"]},
        "created_at": {"oneOf": [{"type": "integer"}, {"type": "string", "format": "date-time"}]},
        "pushed_at": {"type": ["string", "null", "integer"]},
        "license": {"oneOf": [{"$ref": "#/$defs/license"}, {"type": "null"}]},
        "topics": {"type": "array", "items": {"type": "string"}},
        "size": {"type": "number"},
        "tsAdditionalProperties": False,
    },
    "tsAdditionalProperties": False,
    "$defs": {
        "license": {
            "type": "object",
            "required": ["key", "name"],
            "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                           "url": {"type": ["string", "null"], "format": "uri"}},
            "additionalProperties": False,
        },
    },
}
INSTALLATION = {  # 2020-12, referred to by path (no `$id`)
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer", "description": "can exceed 2**64"},
        "node_id": {"type": "string"},
    },
}
LABELS_YAML = """\
# A YAML schema file (no $id): referred to by path.
$schema: https://json-schema.org/draft/2020-12/schema
type: array
items:
  $ref: '#/$defs/label'
$defs:
  label:
    type: object
    required: [name, color]
    properties:
      name: {type: string}
      color: {type: string, pattern: '^[0-9a-fA-F]{6}$'}
      default: {type: boolean}
      description: {type: [string, 'null']}
    additionalProperties: false
"""
TREE = {  # 2019-09 recursion through $recursiveRef
    "$schema": DRAFTS[1],
    "$id": f"{BASE}/common/tree.schema.json",
    "$recursiveAnchor": True,
    "type": "object",
    "required": ["path"],
    "properties": {
        "path": {"type": "string"},
        "children": {"type": "array", "items": {"$recursiveRef": "#"}},
    },
}


def rand_string(rng: random.Random) -> str:
    return rng.choice(["octo", "Zoë", "日本語", "a b", "", "x" * 40, "tab\there", "q\"uote"])


def user(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"login": rng.choice(["octocat", "hubot", "bot[bot]"]),
                           "id": rng.choice([1, 2202229078, 2**63 + 11, 10**30 + 7]),
                           "type": rng.choice(["Bot", "User", "Organization"]),
                           "site_admin": rng.random() < 0.2}
    if rng.random() < 0.7:
        out["name"] = rng.choice([None, "Mona Lisa Octocat"])
    if rng.random() < 0.5:
        out["email"] = rng.choice([None, "mona@example.com", "not an email"])
    if rng.random() < 0.5:
        out["avatar_url"] = rng.choice(["https://Octocoders.io", "https://avatars.example/u/1?v=4"])
    if rng.random() < 0.4:
        out["starred_at"] = rng.choice(["2024-01-01T00:00:00.000Z", "2024-01-01T10:00:00",
                                        "2024-02-29T23:59:59+02:00"])
    return out


def repository(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rng.randrange(1, 10**12), "name": "hello", "full_name": "o/hello",
                           "private": rng.random() < 0.5, "owner": user(rng),
                           "created_at": rng.choice([1764620000, "2025-12-01T20:13:20Z"])}
    if rng.random() < 0.5:
        out["license"] = rng.choice([None, {"key": "mit", "name": "MIT License", "url": None}])
    if rng.random() < 0.5:
        out["size"] = rng.choice([0, 2202229078, 1.5, 12.0])
    if rng.random() < 0.5:
        out["pushed_at"] = rng.choice([None, 1764620000, "2025-12-01T20:13:20Z"])
    if rng.random() < 0.5:
        out["topics"] = ["events", rand_string(rng)]
    if rng.random() < 0.3:
        out["html_url"] = "https://github.com/o/hello"
    if rng.random() < 0.3:
        out["description"] = None
    return out


def tree(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {"path": f"/p{depth}"}
    if depth < 2 and rng.random() < 0.6:
        node["children"] = [tree(rng, depth + 1) for _ in range(rng.randrange(1, 3))]
    return node


def event_schema(index: int, group: str, action: str, rng: random.Random
                 ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One event's schema file and two example payloads."""
    draft = DRAFTS[index % 3]
    by_id = index % 2 == 0  # half refer to the shared files by `$id`, half by path
    schema: dict[str, Any] = {"$schema": draft, "title": f"{group} {action} event",
                              "type": "object"}
    if by_id:
        schema["$id"] = f"{BASE}/payloads/{group}/{action}.schema.json"
    common = "../../common/"
    defs_key = "definitions" if draft == DRAFTS[0] else "$defs"
    props: dict[str, Any] = {
        "action": {"type": "string", "const": action},
        "sender": {"$ref": f"{common}user.schema.json"},
        "repository": {"$ref": f"{common}repository.schema.json"},
        "state": {"enum": ["open", "closed", None]},
        "count": {"type": "integer", "minimum": 0},
        "score": {"type": ["number", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "url": {"type": "string", "format": "uri"},
        "hook_id": {"type": "integer"},
        "detail": {"$ref": f"#/{defs_key}/detail"},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "headers": {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
        "target": {"oneOf": [
            {"type": "object", "required": ["kind", "number"],
             "properties": {"kind": {"const": "issue"}, "number": {"type": "integer"}}},
            {"type": "object", "required": ["kind", "sha"],
             "properties": {"kind": {"const": "commit"}, "sha": {"type": "string",
                                                                  "pattern": "^[0-9a-f]{7,40}$"}}},
        ]},
        "tree": {"$ref": f"{common}tree.schema.json"},
    }
    if not by_id:  # files without `$id` are found by path only
        props["installation"] = {"$ref": f"{common}installation.schema.json"}
        props["labels"] = {"$ref": "../../shared/labels.yaml#"}
    required = ["action", "sender", "repository", "hook_id"]
    detail: dict[str, Any] = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}, "note": {"type": "string", "maxLength": 200},
                       "flags": {"type": "array", "items": {"type": "boolean"}}},
        "additionalProperties": index % 4 != 0,
    }
    if draft != DRAFTS[2]:
        props["pair"] = {"type": "array", "items": [{"type": "string"}, {"type": "integer"}],
                         "additionalItems": False}
    else:
        props["pair"] = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                         "items": False}
    if draft == DRAFTS[0]:
        schema["dependencies"] = {"score": ["count"]}
    else:
        schema["dependentRequired"] = {"score": ["count"]}
    schema["properties"] = props
    schema["required"] = required
    schema[defs_key] = {"detail": detail}
    if index % 5 == 0:
        schema["additionalProperties"] = False
    if index % 7 == 0:
        schema["tsAdditionalProperties"] = False
    examples = []
    for n in range(2):
        payload: dict[str, Any] = {"action": action, "sender": user(rng),
                                   "repository": repository(rng),
                                   "hook_id": rng.choice([7, 2**64 + 1, 123456789012345678901234567890])}
        if not by_id and rng.random() < 0.6:
            payload["installation"] = {"id": rng.choice([5, 2**70]), "node_id": "MDEy"}
        if not by_id and rng.random() < 0.5:
            payload["labels"] = [{"name": "bug", "color": "d73a4a", "default": True,
                                  "description": rng.choice([None, "Something isn't working"])}]
        if rng.random() < 0.5:
            payload["state"] = rng.choice(["open", "closed", None])
        if rng.random() < 0.5:
            payload["count"] = rng.choice([0, 3, 10**20])
            if rng.random() < 0.6:
                payload["score"] = rng.choice([None, 0.25, 7, 1e-7, 2202229078])
        if rng.random() < 0.5:
            payload["updated_at"] = rng.choice([None, "2024-01-01T00:00:00.000Z",
                                                "2024-05-05T12:00:00", "yesterday"])
        if rng.random() < 0.5:
            payload["url"] = rng.choice(["https://Octocoders.io", "https://api.example/a/b?c=d#e"])
        if rng.random() < 0.5:
            payload["detail"] = {"id": n, "note": rand_string(rng), "flags": [True, False]}
            if index % 4 != 0 and rng.random() < 0.5:
                payload["detail"]["extra_field"] = {"kept": [1, "two", None]}
        if rng.random() < 0.4:
            payload["metadata"] = {"a": "1", "b": rand_string(rng)}
        if rng.random() < 0.4:
            payload["headers"] = {"x-trace": "abc", "other": 5}
        if rng.random() < 0.5:
            payload["target"] = rng.choice([{"kind": "issue", "number": 12},
                                            {"kind": "commit", "sha": "deadbeef", "more": True}])
        if rng.random() < 0.4:
            payload["tree"] = tree(rng)
        if rng.random() < 0.4:
            payload["pair"] = ["a", 1]
        if index % 5 != 0 and rng.random() < 0.5:
            payload["undeclared"] = {"nested": [1.5, 2**65, "é"]}
        examples.append(payload)
    return schema, examples


def main() -> None:
    rng = random.Random(11)
    schemas, examples_dir = HERE / "schemas", HERE / "examples"
    for directory in (schemas, examples_dir):
        if directory.exists():
            shutil.rmtree(directory)
    (schemas / "common").mkdir(parents=True)
    (schemas / "shared").mkdir()
    examples_dir.mkdir()

    def write(path: Path, data: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    write(schemas / "common" / "user.schema.json", USER)
    write(schemas / "common" / "repository.schema.json", REPOSITORY)
    write(schemas / "common" / "installation.schema.json", INSTALLATION)
    write(schemas / "common" / "tree.schema.json", TREE)
    (schemas / "shared" / "labels.yaml").write_text(LABELS_YAML, encoding="utf-8")
    lines = ["# The corpus catalog: every payload is a schema file, referred to as written.",
             "catalog: corpus", "contexts:", "  hooks: {}", "  app: {}", "events:"]
    index = 0
    for group in GROUPS:
        for action in ACTIONS:
            schema, examples = event_schema(index, group, action, rng)
            write(schemas / "payloads" / group / f"{action}.schema.json", schema)
            name = f"{group.replace('_', ' ').title().replace(' ', '')}{action.title()}"
            name = name[0].lower() + name[1:]
            write(examples_dir / f"{name}.json", examples)
            lines += [f"  {name}:", f"    payload: {{$ref: payloads/{group}/{action}.schema.json}}",
                      "    producers: [hooks]", "    consumers: [app]"]
            index += 1
    (schemas / "catalog.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
