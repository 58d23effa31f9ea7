"""What every store can keep and give back identical: one rule for all stores, checked before a
message is committed (so a payload never reaches one store and fails in another)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 100
"""How deeply objects and arrays may nest in a stored payload (the top-level object is depth 1).
The JSON reader that loads stored payloads back stops at 200; this leaves room below it."""

_SURROGATE = re.compile("[\ud800-\udfff]")


class UnstorableError(ValueError):
    """A payload value that no store can keep and read back identical.

    `pointer` is the JSON pointer (RFC 6901) of the first such value, `reason` says what is wrong.
    """

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer or '/'}: {reason}")
        self.pointer = pointer
        self.reason = reason


def _escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _check_text(text: str, pointer: str, what: str) -> None:
    if "\x00" in text:
        raise UnstorableError(pointer, f"{what} holds a NUL character (U+0000), which PostgreSQL"
                                       " cannot store; remove or replace it")
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found is not None:
            raise UnstorableError(
                pointer, f"{what} holds a lone surrogate (U+{ord(found.group()):04X}) at index"
                         f" {found.start()}, which is not Unicode text; decode the text properly",
            )


def check_storable(value: object, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise `UnstorableError` (a `ValueError`) naming the JSON pointer of the first part of
    `value` (in document order) that a store cannot keep and read back identical; return None
    when every part can.

    `value` is a payload as Python data (what `model.model_dump(by_alias=True)` returns; a
    pydantic model is dumped that way first). Refused, identically for every store: a NUL
    character or a lone surrogate in a string or an object key, NaN and ±Infinity (JSON has no
    such numbers; they would come back as null), and objects/arrays nested deeper than
    `max_depth` (`MAX_DEPTH`). Call it after validation and before the message is committed.
    """
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(by_alias=True)
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, pointer, depth = pop()
        if isinstance(item, str):
            _check_text(item, pointer, "the string")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise UnstorableError(pointer, f"{item!r} is not a JSON number (it would be stored"
                                               " as null); use a finite number or null")
        elif isinstance(item, Mapping):
            depth += 1
            if depth > max_depth:
                raise UnstorableError(pointer, f"nested deeper than {max_depth} objects/arrays")
            for key, child in reversed(list(item.items())):  # document order
                child_pointer = f"{pointer}/{_escape(key)}"
                if isinstance(key, str):
                    _check_text(key, child_pointer, "the key")
                if not isinstance(child, (int, bool)) and child is not None:
                    push((child, child_pointer, depth))
        elif isinstance(item, (list, tuple, set, frozenset)):
            depth += 1
            if depth > max_depth:
                raise UnstorableError(pointer, f"nested deeper than {max_depth} objects/arrays")
            for index, child in reversed(list(enumerate(item))):
                if not isinstance(child, (int, bool)) and child is not None:
                    push((child, f"{pointer}/{index}", depth))
        elif isinstance(item, (bytes, bytearray)) and b"\x00" in item:
            raise UnstorableError(pointer, "the bytes hold a NUL (0x00), which PostgreSQL cannot"
                                           " store; remove it or send the bytes base64-encoded")
