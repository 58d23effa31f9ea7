"""`tidings emit` of a distributed message over the broker's size limit (the real NATS server's
max_payload): one line naming the message, its size and the limit, exit 2, nothing stored."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.cli.conftest import Project, make_project
from tests.conftest import require_service
from tests.faults.test_nats_size import server_max_payload
from tests.transports.conftest import delete_stream
from tidings.runtime.stores import open_store

APP = textwrap.dedent('''
    import os

    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, MessageSpec, NatsTransport
    from tidings.runtime.stores import open_store


    class Document(pydantic.BaseModel):
        documentId: int
        note: str = ""


    CATALOG = CatalogSpec(os.environ["CATALOG_NAME"], {
        "documentUploaded": MessageSpec("documentUploaded", "event", Document, distributed=True),
    })
    bus = EventBus(CATALOG, store=open_store(os.environ["APP_DB"]), poll_interval=0.05,
                   transport=NatsTransport("nats://127.0.0.1:4222"))
''')


@pytest.fixture(params=["sqlite", "postgres"])
def nats_project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    require_service("NATS", "127.0.0.1", 4222)
    name = f"t{uuid.uuid4().hex[:12]}"
    for project in make_project(tmp_path / "depot", str(request.param)):
        (project.root / "nats_app.py").write_text(APP)
        project.env["CATALOG_NAME"] = name
        yield project
    delete_stream(f"TIDINGS_{name.upper()}")


def stored_count(project: Project) -> int:
    async def count() -> int:
        async with open_store(project.db) as store:
            return len(await store.log())

    return anyio.run(count)


def test_emit_of_an_oversize_distributed_message_is_one_line_exit_2(nats_project: Project) -> None:
    limit = anyio.run(server_max_payload)
    (nats_project.root / "big.json").write_text(f'{{"documentId": 1, "note": "{"x" * limit}"}}')
    result = nats_project.tidings("emit", "documentUploaded", "@big.json", "--app", "nats_app:bus")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: 'documentUploaded' message is "), lines[0]
    assert f"takes at most {limit} bytes" in lines[0]
    assert stored_count(nats_project) == 0
    small = nats_project.tidings("emit", "documentUploaded", '{"documentId": 2}', "--app", "nats_app:bus")
    assert small.returncode == 0, small.stdout + small.stderr
    assert "tidings.relay:nats" in small.stdout and "succeeded" in small.stdout
    assert stored_count(nats_project) == 1
