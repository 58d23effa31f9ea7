"""Message ids: UUID version 7, so ids sort by emit time."""

from __future__ import annotations

import os
import time
from collections import deque
from uuid import UUID, SafeUUID

_VERSION_BITS = 0x7 << 76 | 0x2 << 62  # version 7, variant RFC 9562
_VERSION_MASK = ~(0xF << 76 | 0x3 << 62)
_new = object.__new__
_setattr = object.__setattr__
_UNKNOWN = SafeUUID.unknown

_random_bits: deque[int] = deque()
os.register_at_fork(after_in_child=_random_bits.clear)  # a child must not reuse the parent's


def _random80() -> int:
    # 80 bits from the OS CSPRNG, read 256 values at a time: os.urandom releases the GIL, and
    # every release lets the store's writer thread in, which the event loop then waits out.
    try:
        return _random_bits.popleft()
    except IndexError:
        block = os.urandom(10 * 256)
        _random_bits.extend(int.from_bytes(block[i:i + 10], "big") for i in range(10, 2560, 10))
        return int.from_bytes(block[:10], "big")


def uuid7() -> UUID:
    """A new time-ordered UUID (RFC 9562 version 7): message ids sort by emit time (to the
    millisecond), which keeps the log's indexes append-only."""
    value = (time.time_ns() // 1_000_000) << 80 | _random80()
    uuid = _new(UUID)  # what UUID(int=...) does, without re-checking a value built in range
    _setattr(uuid, "int", value & _VERSION_MASK | _VERSION_BITS)
    _setattr(uuid, "is_safe", _UNKNOWN)
    return uuid
