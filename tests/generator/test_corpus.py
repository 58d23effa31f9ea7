"""The committed corpus (tests/corpus: 300 webhook-like events in drafts 7, 2019-09 and 2020-12,
written by tests/corpus/make_corpus.py) becomes a catalog by `$ref`s only, and its generated
models accept exactly what the raw schemas accept and give every payload back unchanged."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

from tests.generator._exact import ROOT, generated_models, registry_of, same_json
from tidings.catalog import load_catalog

CORPUS = ROOT / "tests" / "corpus"
SCHEMAS = CORPUS / "schemas"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generated_models(SCHEMAS, out, "corpus")


def _raw_validators() -> dict[str, Any]:
    """Event name -> a jsonschema validator of its schema file as written (formats annotate)."""
    registry = registry_of(SCHEMAS)
    catalog = load_catalog(SCHEMAS)
    found = {}
    for message in catalog.messages():
        path = (SCHEMAS / message.payload["$ref"]).resolve()
        # the file by its URI: a schema without `$id` resolves its refs against its path
        validator = Draft202012Validator({"$ref": path.as_uri()}, registry=registry)
        found[message.name] = (validator, message.model_name)
    return found


def _variants(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The payload, and copies changed in ways JSON Schema decides on: no coercion (bool or
    numeric text for an integer, an epoch for a date-time string), undeclared and null fields."""
    out = [payload]
    for key, value in [("hook_id", True), ("hook_id", "7"), ("hook_id", 7.5),
                       ("updated_at", 1764620000), ("count", None), ("typo_field", "x"),
                       ("score", "1.5"), ("action", "nope"), ("state", "merged"),
                       ("sender", None)]:
        changed = copy.deepcopy(payload)
        changed[key] = value
        out.append(changed)
    if "detail" in payload:
        changed = copy.deepcopy(payload)
        changed["detail"]["surprise"] = 1
        out.append(changed)
    changed = copy.deepcopy(payload)
    changed["sender"]["site_admin"] = 1
    out.append(changed)
    changed = copy.deepcopy(payload)
    del changed["repository"]
    out.append(changed)
    return out


def test_the_corpus_loads_unchanged_through_refs() -> None:
    catalog = load_catalog(SCHEMAS)
    assert len(catalog.events) == 300
    assert all(set(m.payload) == {"$ref"} for m in catalog.messages())
    texts = [p.read_text(encoding="utf-8") for p in (SCHEMAS / "payloads").rglob("*.json")]
    assert sum('"$id"' in t for t in texts) == 150 and all('"$schema"' in t for t in texts)
    drafts = {json.loads(t)["$schema"] for t in texts}
    assert len(drafts) == 3
    assert any("tsAdditionalProperties" in str(w) for w in catalog.warnings)


def test_models_accept_what_the_schemas_accept_and_round_trip(corpus: tuple[Path, Any]) -> None:
    _, models = corpus
    checked = accepted = refused = 0
    problems: list[str] = []
    for name, (validator, model_name) in sorted(_raw_validators().items()):
        model: type[BaseModel] = getattr(models, model_name)
        examples = json.loads((CORPUS / "examples" / f"{name}.json").read_text(encoding="utf-8"))
        for example in examples:
            for variant in _variants(example):
                text = json.dumps(variant, ensure_ascii=False)
                valid = validator.is_valid(variant)
                checked += 1
                try:
                    instance = model.model_validate_json(text)
                except ValidationError as exc:
                    if valid:
                        problems.append(f"{name}: refused a valid payload: {exc}")
                    refused += 1
                    continue
                if not valid:
                    problems.append(f"{name}: accepted an invalid payload {text[:300]}")
                    continue
                accepted += 1
                back = json.loads(instance.model_dump_json(by_alias=True, exclude_unset=True))
                if not same_json(back, variant):
                    problems.append(f"{name}: round trip changed {text[:200]} -> {back}")
    assert problems == [], "\n".join(problems[:20])
    assert checked > 7000 and accepted >= 600 and refused > 3000, (checked, accepted, refused)


def test_mypy_strict_passes_on_the_generated_corpus(corpus: tuple[Path, Any]) -> None:
    out, _ = corpus
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "corpus"], cwd=out,
        capture_output=True, text=True, env=env, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
