"""Every report format carries the witness of a breaking finding: the real CLI in a real repo."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tidings.catalog import load_catalog
from tidings.checker import compare_catalogs, load_path_baseline

from ._repo import Repo, base


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.commit(base(), "v1")
    cat = base()
    payload: dict[str, Any] = cat["events"]["orderPlaced"]["payload"]
    payload["properties"]["note"] = {"type": "string", "maxLength": 3}
    r.write(cat)
    return r


def test_json_carries_a_validated_witness(repo: Repo) -> None:
    result = repo.tidings("check", "--against", "main", "--format", "json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    finding = next(f for f in doc["findings"] if f["name"] == "max-length-narrowed")
    assert finding["verdict"] == "breaking"
    witness = finding["witness"]
    assert witness["direction"] == "backward"
    assert witness["refusal"].startswith("/note: ")
    old = base()["events"]["orderPlaced"]["payload"]
    new = json.loads(json.dumps(old))
    new["properties"]["note"]["maxLength"] = 3
    jsonschema.validate(witness["instance"], old)  # the old producers may send it
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(witness["instance"], new)  # the new readers refuse it


def test_text_github_junit_markdown_carry_the_witness(repo: Repo) -> None:
    text = repo.tidings("check", "--against", "main").stdout
    assert "example: old producers may send {" in text
    assert "readers on the new schema refuse it: /note:" in text
    gh = repo.tidings("check", "--against", "main", "--format", "github").stdout
    line = next(x for x in gh.splitlines() if "TID-C032" in x)
    assert "example: old producers may send" in line and "%0A" in line
    junit = repo.tidings("check", "--against", "main", "--format", "junit").stdout
    failure = next(f for f in ET.fromstring(junit.split("\n", 1)[1]).iter("failure")
                   if f.get("type") == "TID-C032")
    assert "example: old producers may send" in (failure.text or "")
    md = repo.tidings("check", "--against", "main", "--format", "markdown").stdout
    row = next(x for x in md.splitlines() if "TID-C032" in x)
    assert "example `{" in row and "refused: /note:" in row


def test_possibly_breaking_is_labelled_and_still_fails(repo: Repo, tmp_path: Path) -> None:
    # foo can never be present in either version (it would have to be a string and a number):
    # the change is reported, but no message can prove it, so it is only possibly breaking.
    cat = base()
    payload: dict[str, Any] = cat["events"]["orderPlaced"]["payload"]
    payload["dependentSchemas"] = {"foo": {"type": "string"}}
    repo.commit(cat, "v2")
    payload["dependentSchemas"] = {"foo": {"type": "number"}}
    repo.write(cat)
    result = repo.tidings("check", "--against", "main", "--format", "json")
    doc = json.loads(result.stdout)
    finding = next(f for f in doc["findings"] if f["pointer"] == "/dependentSchemas/foo/type")
    assert finding["verdict"] == "possibly breaking"
    assert finding["witness"] is None and "no message found" in finding["unproven"]
    assert "possibly breaks" in finding["message"]
    assert result.returncode == 1  # unproven is not proven safe: it still fails the run
    text = repo.tidings("check", "--against", "main").stdout
    assert "possibly breaking: no example message found" in text
    assert "1 possibly breaking (no example found)" in text


def test_without_witnesses_the_findings_are_the_same(repo: Repo) -> None:
    current = load_catalog(repo.root / "schemas")
    repo.git("stash")
    baseline = load_path_baseline(repo.root / "schemas")
    repo.git("stash", "pop")
    proven = compare_catalogs(current, baseline)
    bare = compare_catalogs(current, baseline, witness_budget=None)
    assert [(f.rule.id, f.pointer) for f in proven] == [(f.rule.id, f.pointer) for f in bare]
    assert all(f.witness is None and f.unproven is None for f in bare)
    assert any(f.witness is not None for f in proven)
