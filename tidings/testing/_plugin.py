"""The pytest plugin (entry point `tidings`): the `tidings_bus` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tidings.testing._factory import BusFactory


@pytest.fixture
def tidings_bus(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[BusFactory]:
    """Started buses for this test: `async with tidings_bus(FreightBus) as bus:` (see
    `BusFactory`); all of them share one fake clock and one in-memory broker
    (`TIDINGS_TEST_TRANSPORT=nats`, or `@pytest.mark.parametrize("tidings_bus", ["nats"],
    indirect=True)`: the real NATS server, the test's stream deleted after)."""
    factory = BusFactory(tmp_path, getattr(request, "param", None))
    yield factory
    factory.close()
