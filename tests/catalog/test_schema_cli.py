"""`tidings schema` as a user runs it (a real subprocess), and the format schema it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tidings.catalog import catalog_format_schema, load_catalog
from tidings.catalog._keywords import KNOWN
from tidings.catalog._yaml import parse_yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidings", *args], cwd=cwd, capture_output=True, text=True,
        check=False,
    )


def yaml_data(path: Path) -> Any:
    issues: list[Any] = []
    parsed = parse_yaml(path.as_posix(), path.read_text(encoding="utf-8"), issues)
    assert parsed is not None, issues
    return parsed.data


def catalog_files() -> list[Path]:
    files = sorted((FIXTURES / "valid").rglob("*.yaml"))
    files += sorted((ROOT / "schemas").glob("*.yaml")) if (ROOT / "schemas").is_dir() else []
    return files


@pytest.fixture(scope="module")
def printed() -> dict[str, Any]:
    result = run("schema")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def test_prints_the_format_schema(printed: dict[str, Any]) -> None:
    assert printed == catalog_format_schema()
    Draft202012Validator.check_schema(printed)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(printed["properties"]) == {
        "catalog", "description", "contexts", "defaults", "events", "commands", "$defs",
    }


def test_schema_is_self_contained(printed: dict[str, Any]) -> None:
    """Editors work offline: every $ref points inside the document."""
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(printed)
    assert refs and all(ref.startswith("#/$defs/") for ref in refs)


@pytest.mark.parametrize("path", catalog_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_schema_validates_real_catalog_files(printed: dict[str, Any], path: Path) -> None:
    errors = [e.message for e in Draft202012Validator(printed).iter_errors(yaml_data(path))]
    assert errors == []


def test_schema_rejects_what_the_loader_rejects(printed: dict[str, Any]) -> None:
    validator = Draft202012Validator(printed)
    bad: list[Any] = [
        {"catalog": "t", "events": {"a": {"payload": {"tpye": "object"}}}},
        {"catalog": "t", "events": {"a": {"consumer": [], "payload": {}}}},
        {"catalog": "t", "commands": {"a": {"payload": {}}}},
        {"catalog": "t", "commands": {"a": {"handler": ["x", "y"], "payload": {}}}},
        {"catalog": "t", "defaults": {"retry": {"initial_delay": "5 minutes"}}},
        {"catalog": "t", "defaults": {"compatibility": "BACKWARDS"}},
        {"catalog": "Bad-Name"},
        {"catalog": "t", "events": {"a": {"payload": {"properties": {"x": {"type": "strin"}}}}}},
    ]
    for document in bad:
        assert not validator.is_valid(document), document
    good = {"catalog": "t", "events": {"a": {"payload": {"x-owner": "me", "type": "object"}}}}
    assert validator.is_valid(good)


def test_editor_keywords_match_the_loader(printed: dict[str, Any]) -> None:
    offered = set(printed["$defs"]["schema"]["properties"])
    assert offered == KNOWN | {"definitions"}


def test_output_option_writes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "catalog.schema.json"
    result = run("schema", "--output", str(target), "--indent", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    text = target.read_text(encoding="utf-8")
    assert text.count("\n") == 1
    assert json.loads(text) == catalog_format_schema()


def test_unwritable_output_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    result = run("schema", "--output", str(blocker / "schema.json"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {blocker / 'schema.json'}: cannot write the schema")


def test_broken_catalog_error_path_exits_2_without_traceback(tmp_path: Path) -> None:
    """The path `tidings generate`/`check` take: CatalogError through the click group."""
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "c.yaml").write_text(
        "catalog: t\ncontexts: {core: {}}\nevents:\n  class: {payload: {tpye: object}}\n",
        encoding="utf-8",
    )
    script = (
        "import click, sys\n"
        "from tidings.cli import main\n"
        "from tidings.catalog import load_catalog\n"
        "@main.command('load-for-test')\n"
        "def load_for_test() -> None:\n"
        "    load_catalog('schemas')\n"
        "main(['load-for-test'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        "error: schemas/c.yaml:4:3: events.class: event name 'class' is a Python keyword; "
        "choose another name\n"
    )


def test_missing_directory_exits_2_through_the_cli(tmp_path: Path) -> None:
    script = (
        "from tidings.cli import main\n"
        "from tidings.catalog import load_catalog\n"
        "@main.command('load-for-test')\n"
        "def load_for_test() -> None:\n"
        "    load_catalog('nowhere')\n"
        "main(['load-for-test'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: nowhere: no such directory; point tidings at the directory that holds the "
        "catalog's *.yaml files\n"
    )


def test_example_catalog_loads_if_present() -> None:
    if not (ROOT / "schemas").is_dir() or not any((ROOT / "schemas").glob("*.yaml")):
        pytest.skip("no example catalog in schemas/ yet")
    catalog = load_catalog(ROOT / "schemas")
    assert catalog.events and catalog.commands
