"""Proof that the generated code is typed: real `mypy --strict` rejects a wrong event name and a wrong
payload field on the committed `generated.freight` package, and accepts correct code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.generator.conftest import ROOT

CORRECT = '''
from datetime import UTC, datetime
from uuid import uuid4

from generated.freight import FreightBus
from generated.freight.models import DocumentUploaded, ResyncTracking
from generated.freight.publishers.core import emit_document_uploaded
from generated.freight.subscribers.tasks import on_document_uploaded
from tidings.runtime import Message


async def main(bus: FreightBus) -> None:
    payload = DocumentUploaded(
        document_id=str(uuid4()), shipment_id=str(uuid4()), kind="packing_list", file_name="a.pdf",
        size_bytes=10, uploaded_at=datetime.now(UTC).isoformat(),
    )
    await bus.emit("documentUploaded", payload)
    await emit_document_uploaded(bus, payload)
    message = await bus.publish("resyncTracking", ResyncTracking(shipment_id=str(uuid4())))
    reveal_type(message.data)
    first = await bus.once("documentUploaded")
    reveal_type(first.data.file_name)


def register(bus: FreightBus) -> None:
    @on_document_uploaded(bus, mode="serial")
    async def handle(message: Message[DocumentUploaded]) -> None:
        print(message.data.size_bytes)

    bus.on("resyncTracking", lambda m: print(m.data.shipment_id), mode="async")
'''

WRONG_NAME = '''
from generated.freight import FreightBus
from generated.freight.models import ResyncTracking


async def main(bus: FreightBus, payload: ResyncTracking) -> None:
    await bus.emit("resyncTraking", payload)
'''

WRONG_FIELD = '''
from uuid import uuid4

from generated.freight import FreightBus
from generated.freight.models import ResyncTracking


async def main(bus: FreightBus) -> None:
    await bus.emit("resyncTracking", ResyncTracking(shipment_idd=str(uuid4())))
'''

WRONG_PAYLOAD_TYPE = '''
from generated.freight import FreightBus
from generated.freight.models import ResyncTracking
from generated.freight.publishers.core import emit_shipment_created
from generated.freight.subscribers.tasks import on_document_uploaded
from tidings.runtime import Message


async def main(bus: FreightBus, payload: ResyncTracking) -> None:
    await bus.emit("shipmentCreated", payload)
    await emit_shipment_created(bus, payload)


def register(bus: FreightBus) -> None:
    @on_document_uploaded(bus)
    def handle(message: Message[ResyncTracking]) -> None: ...
'''


def test_mypy_rejects_wrong_names_and_payloads_and_accepts_correct_code(tmp_path: Path) -> None:
    snippets = {
        "correct.py": CORRECT,
        "wrong_name.py": WRONG_NAME,
        "wrong_field.py": WRONG_FIELD,
        "wrong_payload_type.py": WRONG_PAYLOAD_TYPE,
    }
    for name, text in snippets.items():
        (tmp_path / name).write_text(text.lstrip())
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(ROOT / ".mypy_cache"), *sorted(snippets)],
        cwd=tmp_path, env={**os.environ, "MYPYPATH": str(ROOT)},
        capture_output=True, text=True, check=False,
    )
    lines = result.stdout.splitlines()
    errors = {
        name: [line for line in lines if line.startswith(name) and ": error:" in line]
        for name in snippets
    }

    assert errors["correct.py"] == [], result.stdout
    notes = [line for line in lines if line.startswith("correct.py") and "Revealed type" in line]
    assert 'Revealed type is "generated.freight.models.ResyncTracking"' in notes[0]
    assert re.search(r'Revealed type is "(builtins\.)?str"', notes[1])

    assert len(errors["wrong_name.py"]) == 1, result.stdout
    assert 'No overload variant of "emit" of "FreightBus" matches' in errors["wrong_name.py"][0]

    wrong_field = "\n".join(errors["wrong_field.py"])
    assert 'Unexpected keyword argument "shipment_idd" for "ResyncTracking"' in wrong_field

    wrong_type = "\n".join(errors["wrong_payload_type.py"])
    assert 'No overload variant of "emit" of "FreightBus" matches' in wrong_type, result.stdout
    assert 'Argument 2 to "emit_shipment_created" has incompatible type "ResyncTracking"' in wrong_type
    assert "Value of type variable" in wrong_type  # the handler takes the wrong message type
    assert result.returncode == 1
