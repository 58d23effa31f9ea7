"""The pytest plugin (entry point `tidings`): the `tidings_bus` fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidings.testing._factory import BusFactory


@pytest.fixture
def tidings_bus(tmp_path: Path) -> BusFactory:
    """Started buses for this test: `async with tidings_bus(FreightBus) as bus:` (see
    `BusFactory`); all of them share one fake clock and one in-memory broker."""
    return BusFactory(tmp_path)
