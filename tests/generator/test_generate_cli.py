"""`tidings generate`: writes the package, is deterministic, a no-op when nothing changed, atomic,
and `--check` lists stale files. Every run is a real subprocess."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.generator.conftest import RunCli, WriteCatalog

EXPECTED_FILES = {
    "__init__.py", "_manifest.json", "bus.py", "catalog.py", "models.py", "py.typed",
    "publishers/__init__.py", "publishers/a.py", "subscribers/__init__.py", "subscribers/b.py",
}


def snapshot(package: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file of `package` with its bytes, inode and mtime (ns)."""
    return {
        p.relative_to(package).as_posix(): (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted(package.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_generate_writes_the_package(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    schemas = write_catalog(catalog_doc())
    result = run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    package = tmp_path / "out" / "shop"
    assert set(snapshot(package)) == EXPECTED_FILES
    assert "10 file(s) written" in result.stdout
    models = (package / "models.py").read_text()
    assert 'order_id: Annotated[str, Field(alias="orderId")]' in models
    assert "populate_by_name=True" in models
    assert "class ShopBus(EventBus):" in (package / "bus.py").read_text()
    assert "async def emit_order_placed(" in (package / "publishers" / "a.py").read_text()
    assert "def on_order_placed(" in (package / "subscribers" / "b.py").read_text()


def test_rerun_is_a_noop_and_forced_rerun_is_byte_identical(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    schemas = write_catalog(catalog_doc())
    out = tmp_path / "out"
    assert run_cli("generate", "--schemas", str(schemas), "--out", str(out)).returncode == 0
    before = snapshot(out / "shop")

    again = run_cli("generate", "--schemas", str(schemas), "--out", str(out))
    assert again.returncode == 0
    assert "up to date (inputs unchanged)" in again.stdout
    assert snapshot(out / "shop") == before  # same bytes, same inodes, same mtimes

    forced = run_cli("generate", "--force", "--schemas", str(schemas), "--out", str(out))
    assert forced.returncode == 0
    assert "is up to date" in forced.stdout
    assert snapshot(out / "shop") == before


def test_output_does_not_depend_on_the_output_directory(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    schemas = write_catalog(catalog_doc())
    for out in ("one", "two"):
        assert run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / out)).returncode == 0
    first = {k: v[0] for k, v in snapshot(tmp_path / "one" / "shop").items()}
    second = {k: v[0] for k, v in snapshot(tmp_path / "two" / "shop").items()}
    assert first == second


def test_a_payload_edit_changes_only_what_depends_on_it(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    doc = catalog_doc()
    schemas = write_catalog(doc)
    out = tmp_path / "out"
    assert run_cli("generate", "--schemas", str(schemas), "--out", str(out)).returncode == 0
    before = snapshot(out / "shop")

    doc["events"]["orderPlaced"]["payload"]["properties"]["couponCode"] = {
        "type": "string", "maxLength": 12,
    }
    write_catalog(doc)
    result = run_cli("generate", "--schemas", str(schemas), "--out", str(out))
    assert result.returncode == 0, result.stderr
    after = snapshot(out / "shop")
    assert "coupon_code: Annotated[str | None, Field(alias=\"couponCode\", max_length=12)] = None" in (
        after["models.py"][0].decode()
    )
    changed = {name for name in after if after[name][0] != before[name][0]}
    assert changed == {"models.py", "catalog.py", "_manifest.json"}  # the fingerprint moved
    untouched = set(after) - changed
    assert all(after[name][1:] == before[name][1:] for name in untouched)  # not rewritten


def test_check_lists_stale_missing_and_foreign_files(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    schemas = write_catalog(catalog_doc())
    out = tmp_path / "out"
    args = ("--schemas", str(schemas), "--out", str(out))
    missing = run_cli("generate", "--check", *args)
    assert missing.returncode == 1
    assert f"{(out / 'shop' / 'models.py').as_posix()} (missing)" in missing.stdout

    assert run_cli("generate", *args).returncode == 0
    fresh = run_cli("generate", "--check", *args)
    assert (fresh.returncode, fresh.stdout.strip()) == (0, f"{out.as_posix()} is up to date")

    (out / "shop" / "bus.py").write_text("# edited by hand\n")
    (out / "shop" / "publishers" / "gone.py").write_text("")
    stale = run_cli("generate", "--check", *args)
    assert stale.returncode == 1
    assert "2 generated file(s) are stale; run `tidings generate`:" in stale.stdout
    assert f"{(out / 'shop' / 'bus.py').as_posix()} (differs)" in stale.stdout
    assert f"{(out / 'shop' / 'publishers' / 'gone.py').as_posix()} (not generated)" in stale.stdout

    repaired = run_cli("generate", *args)
    assert repaired.returncode == 0
    assert "removed publishers/gone.py" in repaired.stdout
    assert run_cli("generate", "--check", *args).returncode == 0


def test_a_broken_catalog_exits_2_and_leaves_the_package_alone(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    doc = catalog_doc()
    schemas = write_catalog(doc)
    out = tmp_path / "out"
    assert run_cli("generate", "--schemas", str(schemas), "--out", str(out)).returncode == 0
    before = snapshot(out / "shop")

    doc["events"]["orderPlaced"]["consumers"] = ["nobody"]
    doc["events"]["orderPlaced"]["payload"]["properties"]["total"] = {"type": "nmber"}
    write_catalog(doc)
    for args in (("generate",), ("generate", "--check")):
        result = run_cli(*args, "--schemas", str(schemas), "--out", str(out))
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("error: ")
        assert "catalog0.yaml:" in result.stderr  # file:line:column of each problem
        assert "nobody" in result.stderr
        assert "/properties/total/type" in result.stderr
    assert snapshot(out / "shop") == before
    assert sorted(p.name for p in out.iterdir()) == ["shop"]  # no staging directory left behind


def test_hostile_names_are_rejected_with_exit_2(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    payload = {"type": "object", "properties": {}}
    for name in ("class", "__import__('os')", "order-placed", "ordér", "x\"); import os; ("):
        schemas = write_catalog(
            catalog_doc(**{name: {"producers": ["a"], "consumers": ["b"], "payload": payload}})
        )
        result = run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / "out"))
        assert result.returncode == 2, (name, result.stdout)
        assert "Traceback" not in result.stderr
        assert "catalog0.yaml:" in result.stderr
        assert not (tmp_path / "out").exists()


def test_hostile_catalog_and_context_names_are_rejected_with_exit_2(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    bad_catalog = catalog_doc(name="os; import sys")
    bad_context = catalog_doc()
    bad_context["contexts"]["b'); __import__('os"] = {}
    bad_context["events"]["orderPlaced"]["consumers"] = ["b'); __import__('os"]
    for document, fragment in ((bad_catalog, "os; import sys"), (bad_context, "__import__")):
        schemas = write_catalog(document)
        result = run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / "out"))
        assert result.returncode == 2, result.stdout
        assert fragment in result.stderr
        assert "catalog0.yaml:" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "out").exists()


def test_missing_schema_directory_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("generate", "--schemas", str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "no such catalog directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_come_from_pyproject(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    write_catalog(catalog_doc(), directory=tmp_path / "catalogs")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tidings]\nschemas = "catalogs"\n\n[tool.tidings.generate]\nout = "src"\n'
    )
    (tmp_path / "app").mkdir()
    result = run_cli("generate", cwd=tmp_path / "app")  # the nearest pyproject.toml above
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "src" / "shop" / "bus.py").is_file()

    (tmp_path / "pyproject.toml").write_text('[tool.tidings.generate]\noutput = "src"\n')
    wrong = run_cli("generate", cwd=tmp_path)
    assert wrong.returncode == 2
    assert "unknown key 'output' in [tool.tidings.generate]; did you mean 'out'?" in wrong.stderr


def test_templates_override_the_builtin_ones(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    schemas = write_catalog(catalog_doc())
    templates = tmp_path / "templates" / "publishers"
    templates.mkdir(parents=True)
    (templates / "context.py.j2").write_text(
        '"""Custom publishers of {{ context.name | ident }}."""\n'
        "{% for m in produces %}\nNAME_{{ m.function | ident }} = {{ m.name | str }}\n{% endfor %}\n"
    )
    out = tmp_path / "out"
    args = ("--schemas", str(schemas), "--out", str(out), "--templates", str(tmp_path / "templates"))
    assert run_cli("generate", *args).returncode == 0
    assert (out / "shop" / "publishers" / "a.py").read_text() == (
        '"""Custom publishers of a."""\nNAME_order_placed = "orderPlaced"\n'
    )
    manifest = json.loads((out / "shop" / "_manifest.json").read_text())
    assert set(manifest["files"]) == EXPECTED_FILES - {"_manifest.json"}

    # a template that pastes catalog text raw is refused, not rendered
    (templates / "context.py.j2").write_text("{% for m in produces %}{{ m.description }}{% endfor %}\n")
    refused = run_cli("generate", *args)
    assert refused.returncode == 2
    assert "interpolated raw str 'A customer placed an order.'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_repository_generated_package_is_fresh(run_cli: RunCli) -> None:
    result = run_cli("generate", "--check", "--force")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "generated is up to date"


def test_a_payload_name_taken_by_a_nested_object_is_reported(
    tmp_path: Path, run_cli: RunCli, write_catalog: WriteCatalog, catalog_doc: Callable[..., Any]
) -> None:
    nested = {"type": "object", "properties": {"imo": {"type": "string"}}}
    schemas = write_catalog(catalog_doc(
        shipped={"producers": ["a"], "consumers": ["b"],
                 "payload": {"type": "object", "properties": {"vessel": nested}}},
        shippedVessel={"producers": ["a"], "consumers": ["b"],
                       "payload": {"type": "object", "properties": {"name": {"type": "string"}}}},
    ))
    result = run_cli("generate", "--schemas", str(schemas), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "did not produce the payload model ShippedVessel (the name went to another model)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
