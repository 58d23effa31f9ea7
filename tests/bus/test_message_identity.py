"""Message ids and the messages the bus builds (it builds them without the generated __init__)."""

from __future__ import annotations

import os
import time
from dataclasses import fields, replace
from datetime import UTC, datetime
from uuid import UUID

import pydantic
import pytest

from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec
from tidings.runtime._ids import uuid7


class Ping(pydantic.BaseModel):
    n: int


CATALOG = CatalogSpec("t", {"ping": MessageSpec("ping", "event", Ping, version=3)})


def test_uuid7_is_a_real_version_7_uuid_ordered_by_time() -> None:
    before = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(2_000)]
    after = time.time_ns() // 1_000_000
    for value in ids:
        assert value.version == 7 and value.variant == "specified in RFC 4122"
        assert UUID(str(value)) == value and hash(UUID(str(value))) == hash(value)
        assert UUID(bytes=value.bytes) == value
        assert before <= value.int >> 80 <= after
    assert len(set(ids)) == len(ids)
    stamps = [value.int >> 80 for value in ids]
    assert stamps == sorted(stamps)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    uuid7()  # the random bits are read in blocks: a block is now partly used
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, uuid7().bytes)
        os._exit(0)
    os.close(write)
    child = UUID(bytes=os.read(read, 16))
    os.close(read)
    os.waitpid(pid, 0)
    parent = uuid7()
    assert child.int & (1 << 62) - 1 != parent.int & (1 << 62) - 1


def test_the_bus_builds_complete_equal_messages() -> None:
    bus = EventBus(CATALOG)
    message = bus.message("ping", {"n": 1}, producer="me")
    for field in fields(Message):
        getattr(message, field.name)  # every slot is filled
    expected = Message(
        "ping", Ping(n=1), id=message.id, version=3, correlation_id=message.id,
        causation_id=None, attempt=1, emitted_at=message.emitted_at, producer="me",
    )
    assert message == expected and repr(message) == repr(expected)
    assert hash(message.id) == hash(expected.id)
    assert isinstance(message.emitted_at, datetime) and message.emitted_at.tzinfo is UTC
    assert replace(message, attempt=2).attempt == 2
