"""Runtime tests: a hang guard, since a corrupted cancel-scope stack can defeat `fail_after`."""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator

import pytest

HANG_LIMIT = 120.0  # seconds; a correct emitter finishes each test in milliseconds


@pytest.fixture(autouse=True)
def _hang_guard() -> Iterator[None]:
    """Dump every thread's stack and exit if one test hangs, instead of blocking CI forever."""
    stream = sys.__stderr__
    assert stream is not None
    faulthandler.dump_traceback_later(HANG_LIMIT, exit=True, file=stream)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
