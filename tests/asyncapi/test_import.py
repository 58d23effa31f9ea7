"""`tidings import asyncapi` on AsyncAPI 2.6 and 3.0 documents written for these tests in the
style of the specification's examples; bad input is one line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tidings.asyncapi import AsyncAPIError, import_asyncapi
from tidings.catalog import load_catalog

DOCS = Path(__file__).parent / "documents"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_asyncapi_2_6_document(tmp_path: Path) -> None:
    done = _run("import", "asyncapi", str(DOCS / "parcels-2.6.yaml"), "--out", "schemas", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    catalog = load_catalog(tmp_path / "schemas")
    assert catalog.name == "parcel_lockers"
    assert catalog.contexts["parcel_lockers"].transport == "nats"
    dropped = catalog.events["parcelDropped"]
    assert dropped.producers == ("parcel_lockers",) and dropped.distributed
    assert dropped.description == "A courier dropped a parcel into a locker."
    assert dropped.resolved_payload["properties"]["parcel"] == {"$ref": "#/$defs/Parcel"}
    parcel = dropped.resolved_payload["$defs"]["Parcel"]
    assert parcel["properties"]["id"]["description"] == "Tracking number."
    # `publish` in 2.x: the application receives; the command marker makes it a command
    door = catalog.commands["openDoor"]
    assert door.handler == "parcel_lockers" and door.producers == ()
    assert "parcelPickedUp" in catalog.events
    warnings = done.stderr.splitlines()
    assert warnings == [
        f"warning: {DOCS / 'parcels-2.6.yaml'}#/components/messages/ParcelPickedUp: message name "
        "'parcel-picked-up' is no catalog name; imported as 'parcelPickedUp'",
        f"warning: {DOCS / 'parcels-2.6.yaml'}#/channels/lockers.{{lockerId}}.open/parameters: "
        "parameters cannot be expressed in a tidings catalog; left out",
        f"warning: {DOCS / 'parcels-2.6.yaml'}#/channels/lockers.{{lockerId}}.open: channel "
        "'lockers.{lockerId}.open' carries message 'openDoor': tidings sends it on "
        "tidings.parcel_lockers.openDoor",
    ]


def test_asyncapi_3_0_document() -> None:
    result = import_asyncapi(yaml.safe_load((DOCS / "kitchen-3.0.yaml").read_text()))
    assert result.name == "kitchen"
    commands, events = result.catalog["commands"], result.catalog["events"]
    assert commands["cookDish"]["handler"] == "chef"  # x-tidings-context on the operation
    assert commands["cookDish"]["producers"] == ["kitchen"]  # the document's application
    assert events["orderPlaced"]["producers"] == ["kitchen"]
    assert events["orderPlaced"]["payload"]["properties"]["dishes"]["items"] == {"$ref": "#/$defs/Dish"}
    assert events["menuChanged"]["payload"] == {"type": "object"}  # Avro is not JSON Schema
    pointers = [w.split(": ", 1)[0] for w in result.warnings]
    assert pointers == [
        "/components/messages/orderPlaced/correlationId",
        "/channels/orders/address",
        "/channels/cook/bindings",
        "/channels/cook/address",
        "/channels/menu/messages/menuChanged/payload/schema",
        "/channels/menu/address",
        "/operations/askCook/reply",
        "/servers/broker/protocol",
    ]


def test_existing_catalog_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "kitchen.yaml").write_text("catalog: mine\n")
    done = _run("import", "asyncapi", str(DOCS / "kitchen-3.0.yaml"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: schemas/kitchen.yaml exists; pass --force to overwrite it or --out another directory"]
    assert (tmp_path / "schemas" / "kitchen.yaml").read_text() == "catalog: mine\n"


@pytest.mark.parametrize(("text", "expected"), [
    ("openapi: 3.1.0\n", "/asyncapi: not an AsyncAPI document (no `asyncapi` version field)"),
    ("asyncapi: 1.2.0\n",
     "/asyncapi: version '1.2.0' is not read; convert the document to AsyncAPI 2.6 or 3.0"),
    ("asyncapi: 3.0.0\ninfo: {title: x, version: '1'}\nchannels:\n  a:\n    messages:\n"
     "      m: {$ref: '#/components/messages/nope'}\n",
     "/channels/a/messages/m: $ref '#/components/messages/nope' points at nothing; fix the reference"),
    ("asyncapi: [\n", "doc.yaml:2:1: did not find expected node content; fix the document"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "doc.yaml").write_text(text)
    done = _run("import", "asyncapi", "doc.yaml", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].removeprefix("error: ").removeprefix("doc.yaml: ") == expected


def test_unknown_file_is_exit_2(tmp_path: Path) -> None:
    done = _run("import", "asyncapi", "missing.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: missing.yaml: cannot read it (No such file or directory); pass an AsyncAPI file")


def test_import_api_rejects_non_documents() -> None:
    with pytest.raises(AsyncAPIError, match="not an AsyncAPI document"):
        import_asyncapi(["not", "a", "mapping"])
