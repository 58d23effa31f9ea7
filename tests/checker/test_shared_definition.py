"""A change to a shared definition is reported where it is (its own file:line), listing the
messages it affects: the real CLI in a real git repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ._repo import Repo, base

COMMON = {"$defs": {"Money": {
    "type": "object", "required": ["amount", "currency"],
    "properties": {"amount": {"type": "string"},
                   "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]}}}}}


def _catalog() -> dict[str, Any]:
    cat = base()
    for name in ("orderPlaced", "orderPaid"):
        cat["events"][name]["payload"]["properties"]["total"] = {
            "$ref": "common.yaml#/$defs/Money"}
    return cat


def test_changed_definition_is_reported_in_its_file(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.write(COMMON, "common.yaml")
    repo.commit(_catalog(), "v1")
    common = json.loads(json.dumps(COMMON))
    common["$defs"]["Money"]["properties"]["currency"]["enum"] = ["EUR", "USD"]
    repo.write(common, "common.yaml")
    result = repo.tidings("check", "--against", "main", "--format", "json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    found = [f for f in doc["findings"] if f["name"] == "enum-narrowed"]
    assert len(found) == 1, found  # one finding for the one change, not one per message
    finding = found[0]
    assert finding["file"] == "schemas/common.yaml"
    text = (repo.root / "schemas" / "common.yaml").read_text().splitlines()
    assert "enum" in text[finding["line"] - 1], (finding["line"], text)
    assert finding["definition"] == "Money"
    assert finding["affects"] == ["orderPaid", "orderPlaced"]
    assert "shared definition 'Money' changed; it affects 2 message(s): orderPaid, orderPlaced" \
        in finding["message"]
    assert finding["witness"]["instance"]["total"]["currency"] == "GBP"
    plain = repo.tidings("check", "--against", "main").stdout
    assert f"schemas/common.yaml:{finding['line']}:" in plain
    assert yaml.safe_load((repo.root / "schemas" / "common.yaml").read_text()) == common
