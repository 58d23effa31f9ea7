"""Distributed messages in the generated code: `catalog.py` marks them (and only them) with
`distributed=True`, so the runtime relays them to a transport's broker."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from tests.generator.conftest import ROOT, WriteCatalog
from tidings.generator import generate


def _event(producer: str, consumer: str, **extra: Any) -> dict[str, Any]:
    return {"producers": [producer], "consumers": [consumer], **extra,
            "payload": {"type": "object", "properties": {"id": {"type": "string"}}}}


DOCUMENT: dict[str, Any] = {
    "catalog": "distshop",
    "contexts": {"orders": {}, "billing": {}, "fraud": {"transport": "nats"}},
    "events": {
        "orderPlaced": _event("orders", "fraud"),                       # consumed remotely
        "orderFlagged": _event("fraud", "orders"),                      # produced remotely
        "orderPaid": _event("billing", "orders", distributed=True),     # declared
        "orderNoted": _event("orders", "billing", distributed=False),
        "orderSeen": _event("orders", "billing"),
    },
    "commands": {
        "checkOrder": {"producers": ["orders"], "handler": "fraud", "payload": {"type": "object"}},
        "refund": {"producers": ["orders"], "handler": "billing", "distributed": True,
                   "payload": {"type": "object"}},
        "recount": {"producers": ["orders"], "handler": "billing", "payload": {"type": "object"}},
    },
}
DISTRIBUTED = {"orderPlaced", "orderFlagged", "orderPaid", "checkOrder", "refund"}


def _spec_blocks(text: str) -> dict[str, str]:
    """Each `MessageSpec(...)` block of a generated catalog.py, by message name."""
    blocks: dict[str, str] = {}
    for chunk in text.split("MessageSpec(\n")[1:]:
        name = chunk.split('name="', 1)[1].split('"', 1)[0]
        blocks[name] = chunk.split("\n        ),\n", 1)[0]
    return blocks


def test_catalog_py_marks_exactly_the_distributed_messages(
    tmp_path: Path, write_catalog: WriteCatalog
) -> None:
    schemas = write_catalog(DOCUMENT)
    package = generate(schemas, tmp_path / "out").package
    blocks = _spec_blocks((package / "catalog.py").read_text(encoding="utf-8"))
    assert set(blocks) == {*DOCUMENT["events"], *DOCUMENT["commands"]}
    for name, block in blocks.items():
        expected = 1 if name in DISTRIBUTED else 0  # omitted when false: stable output
        assert block.count("distributed=True") == expected, name
        assert "distributed=False" not in block
    sys.path.insert(0, str(tmp_path / "out"))
    try:
        generated = importlib.import_module("distshop")
    finally:
        sys.path.remove(str(tmp_path / "out"))
    got = {name for name, spec in generated.CATALOG.messages.items() if spec.distributed}
    assert got == DISTRIBUTED


def test_the_example_marks_what_metis_touches() -> None:
    blocks = _spec_blocks((ROOT / "generated" / "freight" / "catalog.py").read_text(encoding="utf-8"))
    assert {name for name, block in blocks.items() if "distributed=True" in block} == {
        "METIS_AnalyzeDocumentCommand", "documentAnalyzed", "documentUploaded",
    }
    from generated.freight import CATALOG

    assert {n for n, spec in CATALOG.messages.items() if spec.distributed} == {
        "METIS_AnalyzeDocumentCommand", "documentAnalyzed", "documentUploaded",
    }
