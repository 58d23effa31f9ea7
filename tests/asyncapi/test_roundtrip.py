"""import(export(catalog)) is the catalog: on the worked example and on random catalogs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings

from tests.asyncapi._catalogs import catalog_data, load_data, view
from tidings.asyncapi import export_asyncapi, export_asyncapi_per_context, import_asyncapi
from tidings.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]


def _round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    # Through YAML text, as a file would carry it.
    result = import_asyncapi(yaml.safe_load(yaml.safe_dump(doc, sort_keys=False)))
    assert result.warnings == []
    return view(load_data(result.catalog, f"{result.name}.yaml"))


def test_example_catalog_round_trips() -> None:
    catalog = load_catalog(ROOT / "schemas")
    assert _round_trip(export_asyncapi(catalog)) == view(catalog)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=catalog_data())
def test_random_catalogs_round_trip(data: dict[str, Any]) -> None:
    catalog = load_data(data)
    assert _round_trip(export_asyncapi(catalog)) == view(catalog)


def test_export_is_deterministic() -> None:
    catalog = load_catalog(ROOT / "schemas")
    first = yaml.safe_dump(export_asyncapi(catalog), sort_keys=False)
    again = yaml.safe_dump(export_asyncapi(load_catalog(ROOT / "schemas")), sort_keys=False)
    assert first == again


def test_per_context_documents_hold_only_that_context() -> None:
    catalog = load_catalog(ROOT / "schemas")
    docs = export_asyncapi_per_context(catalog)
    assert sorted(docs) == sorted(catalog.contexts)
    metis = docs["metis"]
    assert {op["x-tidings-context"] for op in metis["operations"].values()} == {"metis"}
    assert set(metis["channels"]) == {"documentUploaded", "documentAnalyzed", "METIS_AnalyzeDocumentCommand"}
    assert "Money" not in metis["components"]["schemas"]  # only what its payloads reach


def test_cli_round_trip_through_files(tmp_path: Path) -> None:
    out = tmp_path / "freight.yaml"
    run = [sys.executable, "-m", "tidings"]
    subprocess.run([*run, "export", "asyncapi", "--catalog", str(ROOT / "schemas"), "-o", str(out)],
                   check=True, cwd=tmp_path)
    done = subprocess.run([*run, "import", "asyncapi", str(out), "--out", str(tmp_path / "schemas")],
                          check=True, cwd=tmp_path, capture_output=True, text=True)
    assert "0 warnings" in done.stdout
    assert view(load_catalog(tmp_path / "schemas")) == view(load_catalog(ROOT / "schemas"))
