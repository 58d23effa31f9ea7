"""Distributed messages in the generated code: `catalog.py` marks them (and only them) with
`distributed=True`, so the runtime relays them to a transport's broker; the subscriber decorators
and the typed bus pass `remote` through to `EventBus.on`."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def test_generated_subscribers_pass_remote_through_to_the_bus() -> None:
    """`remote` reaches `EventBus.on`: `remote=True` without a transport is the bus's own error,
    through the generated decorator and the typed `FreightBus.on` alike."""
    from generated.freight import FreightBus
    from generated.freight.subscribers.tasks import on_document_uploaded

    def handle(message: Any) -> None: ...

    bus = FreightBus()
    with pytest.raises(ValueError, match="remote=True needs an EventBus with a transport"):
        on_document_uploaded(bus, mode="async", remote=True)(handle)
    with pytest.raises(ValueError, match="remote=True needs an EventBus with a transport"):
        bus.on("documentUploaded", handle, mode="async", remote=True)
    assert on_document_uploaded(bus, mode="sync", remote=False)(handle) is handle
    assert bus.subscribers[f"{__name__}:{handle.__qualname__}"].remote is False


def test_generated_modules_document_remote() -> None:
    subscribers = ROOT / "generated" / "freight" / "subscribers"
    metis = (subscribers / "metis.py").read_text(encoding="utf-8")
    assert "`remote` picks where a distributed message" in metis
    assert ("Distributed here (they cross the wire, on subjects `tidings.freight.<name>`):\n"
            "`METIS_AnalyzeDocumentCommand`, `documentUploaded`.") in metis
    tracking = (subscribers / "tracking.py").read_text(encoding="utf-8")
    assert "`remote` picks where" in tracking and "Distributed here" not in tracking
    assert metis.count("remote: bool | None = None,") == 2
    assert metis.count("remote=remote,") == 2


TYPED = '''
from generated.freight import FreightBus
from generated.freight.models import DocumentUploaded
from generated.freight.subscribers.tasks import on_document_uploaded
from tidings.runtime import Message


def register(bus: FreightBus) -> None:
    @on_document_uploaded(bus, mode="sync", remote=False)
    def mark(message: Message[DocumentUploaded]) -> None: ...

    bus.on("documentUploaded", mark, mode="async", remote=None, name="x")
    bus.on(["documentUploaded", "documentAnalyzed"], print, mode="serial", remote=True)
'''

WRONG_REMOTE = '''
from generated.freight import FreightBus
from generated.freight.subscribers.tasks import on_document_uploaded


def register(bus: FreightBus) -> None:
    on_document_uploaded(bus, remote="no")(print)
    bus.on("documentUploaded", print, remote="no")
'''


def test_mypy_types_remote(tmp_path: Path) -> None:
    (tmp_path / "typed.py").write_text(TYPED.lstrip())
    (tmp_path / "wrong_remote.py").write_text(WRONG_REMOTE.lstrip())
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), "typed.py", "wrong_remote.py"],
        cwd=tmp_path, env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True, text=True, check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert not [e for e in errors if e.startswith("typed.py")], result.stdout
    wrong = [e for e in errors if e.startswith("wrong_remote.py")]
    assert len(wrong) == 2, result.stdout
    assert 'Argument "remote" to "on_document_uploaded" has incompatible type "str"' in wrong[0]
    assert 'No overload variant of "on" of "FreightBus" matches' in wrong[1]
