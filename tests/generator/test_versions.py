"""Older payload versions the catalog keeps (`previous: {v1: {payload: ...}}`): checked like the
rest of the catalog (file:line:col errors), generated as `models.v1.<Model>` next to the current
models, wired into `CATALOG` for the runtime and typed in the bus's `upcaster` overloads (real
`mypy --strict` on the generated package and on code that uses it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from tests.generator.conftest import ROOT, RunCli

CATALOG = textwrap.dedent('''
    catalog: shop
    contexts:
      orders: {}
      billing: {}
    events:
      orderPlaced:
        version: 3
        producers: [orders]
        consumers: [billing]
        payload:
          type: object
          required: [orderId, total]
          properties:
            orderId: {type: string}
            total: {$ref: "#/$defs/Money"}
        previous:
          v1:
            description: The total was an integer amount in cents.
            payload:
              type: object
              required: [orderId, total]
              properties:
                orderId: {type: string}
                total: {type: integer}
      orderShipped:
        version: 2
        producers: [orders]
        consumers: [billing]
        payload: {type: object, properties: {orderId: {type: string}}}
    $defs:
      Money:
        type: object
        required: [amount, currency]
        properties:
          amount: {type: integer}
          currency: {type: string}
''')

USE = '''
from typing import Any

from shop import CATALOG, ShopBus, models


bus = ShopBus()


@bus.upcaster("orderPlaced", from_version=1)
def to_v2(old: models.v1.OrderPlaced) -> dict[str, Any]:
    return {"orderId": old.order_id, "total": {"amount": old.total, "currency": "EUR"}}


@bus.upcaster("orderPlaced", from_version=2)
def to_v3(old: dict[str, Any]) -> dict[str, Any]:
    return old


@bus.upcaster("orderShipped", from_version=1)
def shipped(old: dict[str, Any]) -> dict[str, Any]:
    return old


reveal_type(CATALOG.messages["orderPlaced"].previous)
'''

WRONG = '''
from shop import ShopBus, models


bus = ShopBus()


@bus.upcaster("orderPlaced", from_version=1)
def takes_the_current_model(old: models.OrderPlaced) -> models.OrderPlaced:
    return old


@bus.upcaster("orderPlaced", from_version=3)
def from_the_current_version(old: models.OrderPlaced) -> models.OrderPlaced:
    return old
'''


def _generate(run_cli: RunCli, tmp_path: Path) -> Path:
    schemas = tmp_path / "schemas"
    schemas.mkdir(exist_ok=True)
    (schemas / "shop.yaml").write_text(CATALOG)
    result = run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    return tmp_path / "out"


def test_old_versions_are_importable_and_typed_for_upcasters(run_cli: RunCli,
                                                             tmp_path: Path) -> None:
    out = _generate(run_cli, tmp_path)
    package = out / "shop"
    assert not (package / "models.py").exists()
    assert sorted(p.name for p in (package / "models").iterdir() if p.suffix == ".py") == [
        "__init__.py", "v1.py"]
    (out / "use.py").write_text(USE.lstrip())
    (out / "wrong.py").write_text(WRONG.lstrip())
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(ROOT / ".mypy_cache"), "shop", "use.py", "wrong.py"],
        cwd=out, capture_output=True, text=True, check=False,
        env={**os.environ, "MYPYPATH": str(ROOT)})
    lines = result.stdout.splitlines()
    errors = [line for line in lines if ": error:" in line]
    assert [line for line in errors if not line.startswith("wrong.py")] == [], result.stdout
    assert any("Revealed type" in line and "type[pydantic.main.BaseModel]" in line
               for line in lines), result.stdout
    wrong = sorted({line.split(":")[1] for line in errors if line.startswith("wrong.py")})
    assert wrong == ["12", "7"], result.stdout  # the wrong model, and no step from v3

    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent('''
            from shop import CATALOG, models
            from shop.models import v1
            spec = CATALOG.messages["orderPlaced"]
            assert spec.version == 3 and spec.previous == {1: v1.OrderPlaced}
            assert models.v1.OrderPlaced.model_validate({"orderId": "o", "total": 5}).total == 5
            assert CATALOG.messages["orderShipped"].previous == {}
            print(v1.OrderPlaced.__doc__.strip())
        ''')],
        cwd=out, env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{out}"},
        capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "The total was an integer amount in cents."


def test_keeping_a_first_old_version_turns_models_into_a_package(run_cli: RunCli,
                                                                 tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    before, after = CATALOG.split("    previous:\n")
    (schemas / "shop.yaml").write_text(before + "  orderShipped:" + after.split("  orderShipped:")[1])
    out = tmp_path / "out"
    assert run_cli("generate", "--schemas", str(schemas), "--out", str(out)).returncode == 0
    assert (out / "shop" / "models.py").is_file()
    (schemas / "shop.yaml").write_text(CATALOG)
    stale = run_cli("generate", "--check", "--schemas", str(schemas), "--out", str(out))
    assert stale.returncode == 1 and "models/v1.py (missing)" in stale.stdout + stale.stderr
    again = run_cli("generate", "--schemas", str(schemas), "--out", str(out))
    assert again.returncode == 0 and "models.py" in again.stdout
    assert not (out / "shop" / "models.py").exists()
    assert (out / "shop" / "models" / "v1.py").is_file()


def test_previous_versions_are_checked_with_file_line_and_column(run_cli: RunCli,
                                                                 tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    broken = CATALOG.replace("      v1:\n", "      v3:\n").replace(
        "  orderShipped:\n", "      one:\n        payload: {type: object}\n"
        "      v2:\n        payload: {type: object, properties: {a: {type: strin}}}\n"
        "        upcast: {}\n  orderShipped:\n")
    (schemas / "shop.yaml").write_text(broken)
    lines = broken.splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if line.startswith(text))

    result = run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    shown = f"{schemas}/shop.yaml"
    at = {key: f"{shown}:{line_of(key)}" for key in ("      v3:", "      one:", "        upcast:")}
    previous = "events.orderPlaced.previous"
    assert (f"{at['      v3:']}:7: {previous}.v3: v3 is not older than this message's `version` "
            "(3)") in result.stderr
    assert (f"{at['      one:']}:7: {previous}.one: 'one' is not a version; write the older "
            "version as `v1`, `v2`, ...") in result.stderr
    assert (f"{shown}:{line_of('      v2:') + 1}:56: {previous}.v2.payload /properties/a/type:"
            in result.stderr)
    assert (f"{at['        upcast:']}:9: {previous}.v2.upcast: unknown key; allowed keys: "
            "description, payload") in result.stderr


def test_a_single_upcaster_step_is_typed_without_overloads(run_cli: RunCli,
                                                           tmp_path: Path) -> None:
    data = yaml.safe_load(CATALOG)
    data["events"]["orderPlaced"]["version"] = 2  # one step: from v1, which the catalog keeps
    del data["events"]["orderShipped"]
    single = yaml.safe_dump(data, sort_keys=False)
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "shop.yaml").write_text(single)
    out = tmp_path / "out"
    assert run_cli("generate", "--schemas", str(schemas), "--out", str(out)).returncode == 0
    bus = (out / "shop" / "bus.py").read_text()
    assert bus.count("def upcaster(") == 1 and "from_version: Literal[1]" in bus
    (out / "use.py").write_text(USE.split("@bus.upcaster(\"orderPlaced\", from_version=2)")[0]
                                .rstrip() + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(ROOT / ".mypy_cache"), "shop", "use.py"],
        cwd=out, capture_output=True, text=True, check=False,
        env={**os.environ, "MYPYPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout
