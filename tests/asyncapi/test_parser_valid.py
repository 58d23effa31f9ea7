"""The export is valid for the official @asyncapi/parser: no error for the worked example, its
per-context documents, random catalogs and a large catalog."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.asyncapi._catalogs import catalog_data, load_data
from tests.site._big import big_catalog
from tidings.asyncapi import dump_document, export_asyncapi, export_asyncapi_per_context
from tidings.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[2]
Parse = Callable[[list[Path]], list[dict[str, Any]]]


def _clean(results: list[dict[str, Any]]) -> None:
    for r in results:
        assert r["parsed"], r
        assert r["errors"] == [], r


def test_example_and_per_context_documents_are_valid(asyncapi_parser: Parse, tmp_path: Path) -> None:
    catalog = load_catalog(ROOT / "schemas")
    files = [tmp_path / "freight.yaml"]
    files[0].write_text(dump_document(export_asyncapi(catalog), False))
    for name, doc in export_asyncapi_per_context(catalog).items():
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(dump_document(doc, True))
    results = asyncapi_parser(files)
    _clean(results)
    assert results[0]["warnings"] == []


def test_random_catalogs_are_valid(asyncapi_parser: Parse, tmp_path: Path) -> None:
    files: list[Path] = []

    @settings(max_examples=10, deadline=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(data=catalog_data(), as_json=st.booleans())
    def collect(data: dict[str, Any], as_json: bool) -> None:
        path = tmp_path / f"r{len(files)}.{'json' if as_json else 'yaml'}"
        path.write_text(dump_document(export_asyncapi(load_data(data)), as_json))
        files.append(path)

    collect()
    assert len(files) == 10
    _clean(asyncapi_parser(files))  # one node process for all: the parser takes seconds to start


def test_large_catalog_is_valid(asyncapi_parser: Parse, tmp_path: Path) -> None:
    catalog = big_catalog(tmp_path / "big", 300)  # the parser takes minutes on 1,000 here
    doc = export_asyncapi(catalog)
    assert len(doc["channels"]) == 300
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    _clean(asyncapi_parser([path]))
