"""Schema files laid out as JavaScript tools (ajv) write them: a relative root `$id` naming the
file from the schema tree's root (`common/user.schema.json`), an event schema whose `$id` is no
path at all (`issues$opened`), refs between the files by `$id`, and an `allOf` that narrows a
property of the schema it refers to (to `null`, or to a narrower object). The catalog takes the
files unchanged; the models accept what the raw schemas accept (read by `$id`, as those tools
do), refuse what they refuse, give payloads back unchanged and pass `mypy --strict`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from pydantic import BaseModel, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7

from tests.generator._exact import ROOT, generated_models, same_json
from tidings.catalog import load_catalog

DRAFT = "http://json-schema.org/draft-07/schema"
USER = {
    "$schema": DRAFT, "$id": "common/user.schema.json", "type": "object",
    "required": ["login", "id"],
    "properties": {"login": {"type": "string"}, "id": {"type": "integer"}},
    "additionalProperties": False,
}
CATEGORY = {
    "$schema": DRAFT, "$id": "common/category.schema.json", "type": "object",
    "required": ["name", "answerable"],
    "properties": {"name": {"type": "string"}, "answerable": {"type": "boolean"}},
    "additionalProperties": False,
}
ISSUE = {
    "$schema": DRAFT, "$id": "common/issue.schema.json", "type": "object",
    "required": ["number", "state", "closed_at", "user", "category"],
    "properties": {
        "number": {"type": "integer"},
        "state": {"type": "string", "enum": ["open", "closed"]},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "user": {"$ref": "user.schema.json"},  # relative to this file's `$id`
        "category": {"$ref": "category.schema.json"},
    },
    "additionalProperties": False,
}
OPENED = {
    "$schema": DRAFT, "$id": "issues$opened", "type": "object",
    "required": ["action", "issue", "sender"],
    "properties": {
        "action": {"type": "string", "enum": ["opened"]},
        "issue": {"allOf": [
            {"$ref": "common/issue.schema.json"},
            {"type": "object", "required": ["state", "closed_at"], "properties": {
                "state": {"type": "string", "enum": ["open"]},
                "closed_at": {"type": "null"},
                "category": {"type": "object", "required": ["answerable"],
                             "properties": {"answerable": {"type": "boolean", "enum": [True]}}},
            }},
        ]},
        "sender": {"$ref": "common/user.schema.json"},
    },
    "additionalProperties": False,
}
GOOD = {"action": "opened", "sender": {"login": "octocat", "id": 2202229078123456789},
        "issue": {"number": 1, "state": "open", "closed_at": None,
                  "user": {"login": "octocat", "id": 1},
                  "category": {"name": "Q&A", "answerable": True}}}


def _changed(**issue: Any) -> dict[str, Any]:
    payload = json.loads(json.dumps(GOOD))
    payload["issue"].update(issue)
    return payload


CASES = [
    GOOD,
    _changed(closed_at="2026-01-01T00:00:00Z"),  # the narrowing says null
    _changed(state="closed"),
    _changed(category={"name": "Q&A", "answerable": False}),
    _changed(category={"name": "Q&A", "answerable": True, "extra": 1}),  # the file closes it
    _changed(category={"answerable": True}),  # the file requires a name
    _changed(user={"login": "octocat", "id": "1"}),
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("relative-ids")
    schemas = root / "vendor" / "github"  # the tree sits anywhere below the catalog
    for relative, schema in [("common/user.schema.json", USER),
                             ("common/category.schema.json", CATEGORY),
                             ("common/issue.schema.json", ISSUE),
                             ("issues/opened.schema.json", OPENED)]:
        (schemas / relative).parent.mkdir(parents=True, exist_ok=True)
        (schemas / relative).write_text(json.dumps(schema, indent=2), encoding="utf-8")
    (root / "catalog.yaml").write_text(
        "catalog: hub\ncontexts:\n  github: {}\n  app: {}\nevents:\n  issuesOpened:\n"
        "    payload: {$ref: vendor/github/issues/opened.schema.json}\n"
        "    producers: [github]\n    consumers: [app]\n", encoding="utf-8")
    return root


def _raw_validator() -> Draft7Validator:
    """The schemas as ajv reads them: every file by its `$id`, refs resolved against it."""
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], DRAFT7.create_resource(s)) for s in (USER, CATEGORY, ISSUE, OPENED))
    return Draft7Validator({"$ref": OPENED["$id"]}, registry=registry)


def test_the_files_load_unchanged_and_refer_to_each_other_by_id(tree: Path) -> None:
    catalog = load_catalog(tree)
    assert [m.name for m in catalog.messages()] == ["issuesOpened"]
    assert json.loads((tree / "vendor/github/issues/opened.schema.json").read_text()) == OPENED


def test_models_agree_with_the_raw_schemas_and_round_trip(tree: Path, tmp_path: Path) -> None:
    models = generated_models(tree, tmp_path, "hub")
    model: type[BaseModel] = models.IssuesOpened
    validator = _raw_validator()
    verdicts = []
    for case in CASES:
        text = json.dumps(case)
        try:
            instance = model.model_validate_json(text)
        except ValidationError:
            verdicts.append((validator.is_valid(case), False))
            continue
        verdicts.append((validator.is_valid(case), True))
        back = json.loads(instance.model_dump_json(by_alias=True, exclude_unset=True))
        assert same_json(back, case)
    assert verdicts == [(True, True)] + [(False, False)] * (len(CASES) - 1)


def test_mypy_strict_passes_on_the_generated_package(tree: Path, tmp_path: Path) -> None:
    generated_models(tree, tmp_path, "hub")
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "hub"], cwd=tmp_path,
        capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
