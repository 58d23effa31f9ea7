"""Catalog text never becomes code: hostile descriptions, titles, enum values, defaults and property
names produce a package that compiles, imports, passes mypy and carries the text only as data."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest

from tests.generator.conftest import ROOT
from tidings.generator import generate

SENTINEL = "PWNED_BY_CATALOG"

HOSTILE = [
    'quote " and \' both',
    'triple """ double',
    "triple ''' single",
    "back\\slash \\n \\x41 \\",
    "new\nline\r\n\ttab",
    f"__import__('os').system('touch {SENTINEL}')",
    f'"""; import os; os.system("touch {SENTINEL}"); """',
    f"'''\nimport os\nos.system('touch {SENTINEL}')\n'''",
    "ends with a quote\"",
    "ends with a backslash\\",
    "{{ jinja }} {% if %} ${x} %s {0}",
    "unicode: caf\u00e9 \u2019quoted\u2019 \u0430 \U0001f600 \u2028 \u200b \ufeff",
    "trailing spaces   \n   \n",
    "x" * 300,
    "nul \x00 and del \x7f and \x1b[31m escape",
]


def hostile_catalog() -> dict[str, Any]:
    enum_values = HOSTILE[:10]
    properties: dict[str, Any] = {
        "plain": {
            "type": "string",
            "title": HOSTILE[6],
            "description": "\n".join(HOSTILE),
            "default": HOSTILE[5],
        },
        "choice": {"type": "string", "enum": enum_values, "default": HOSTILE[1]},
    }
    for text in HOSTILE:
        properties[text] = {"type": "string", "description": text, "title": text}
    return {
        "catalog": "hostile",
        "description": "\n".join(HOSTILE),
        "contexts": {
            "a": {"description": HOSTILE[6], "owner": HOSTILE[5]},
            "b": {"description": HOSTILE[7]},
        },
        "events": {
            "somethingHappened": {
                "description": "\n".join(HOSTILE),
                "producers": ["a"],
                "consumers": ["b"],
                "payload": {"type": "object", "description": HOSTILE[2], "properties": properties},
            },
        },
        "commands": {
            "doSomething": {
                "description": HOSTILE[6] + HOSTILE[7],
                "handler": "b",
                "producers": ["a"],
                "payload": {"type": "object", "properties": {"x": {"type": "string", "default": HOSTILE[4]}}},
            }
        },
    }


PROBE = """
import json, sys, typing
from hostile import CATALOG, models
from hostile.publishers import a
from hostile.subscribers import b
event = CATALOG.get("somethingHappened")
model = models.SomethingHappened
sample = {text: text for text in json.loads(sys.argv[1])}
sample["choice"] = json.loads(sys.argv[1])[3]
parsed = model.model_validate(sample)
print(json.dumps({
    "catalog_doc": __import__("hostile").__doc__,
    "description": event.description,
    "command_description": CATALOG.get("doSomething").description,
    "aliases": sorted(f.alias or n for n, f in model.model_fields.items()),
    "enum": [
        list(typing.get_args(arg)) for arg in (
            [model.model_fields["choice"].annotation]
            + list(typing.get_args(model.model_fields["choice"].annotation)))
        if typing.get_origin(arg) is typing.Literal
    ][0],
    "choice_default": model.model_fields["choice"].default,
    "plain_default": model.model_fields["plain"].default,
    "plain_title": model.model_fields["plain"].title,
    "command_default": models.DoSomething.model_fields["x"].default,
    "round_trip": parsed.model_dump(by_alias=True, exclude_unset=True) == sample,
    "publisher_doc": a.emit_something_happened.__doc__,
    "subscriber_doc": b.on_do_something.__doc__,
}))
"""


@pytest.fixture(scope="module")
def hostile_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    schemas = root / "schemas"
    schemas.mkdir()
    import yaml

    (schemas / "hostile.yaml").write_text(
        yaml.safe_dump(hostile_catalog(), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    generate(schemas, root / "out")
    return root / "out" / "hostile"


def test_every_generated_file_compiles_with_ascii_literals(hostile_package: Path) -> None:
    files = sorted(hostile_package.rglob("*.py"))
    assert len(files) == 8
    for path in files:
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME:
                continue  # attribute names derived from property names may be Unicode letters
            assert token.string.isascii(), (path, token)
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", token.string), (path, token)


def test_the_text_arrives_as_data_and_nothing_runs(hostile_package: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hostile_package.parent), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HOSTILE)],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert not list(tmp_path.iterdir()), "importing the package ran catalog text"
    assert data["description"] == "\n".join(HOSTILE)
    assert data["command_description"] == HOSTILE[6] + HOSTILE[7]
    assert data["aliases"] == sorted(["plain", "choice", *HOSTILE])
    assert data["enum"] == HOSTILE[:10]
    assert data["choice_default"] == HOSTILE[1]
    assert data["plain_default"] == HOSTILE[5]
    assert data["plain_title"] == HOSTILE[6]
    assert data["command_default"] == HOSTILE[4]
    assert data["round_trip"] is True
    assert SENTINEL in data["publisher_doc"]  # documentation shows the text, escaped
    assert "doSomething" in data["subscriber_doc"]


def test_the_hostile_package_passes_mypy_strict(hostile_package: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), str(hostile_package)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_templated_modules_pass_ruff(hostile_package: Path) -> None:
    templated = [str(p) for p in sorted(hostile_package.rglob("*.py")) if p.name != "models.py"]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--line-length", "100",
         "--select", "E,F,W,I,B,UP,SIM,RUF", *templated],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
