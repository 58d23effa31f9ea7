"""One-line summaries of errors: of a stored traceback (a delivery's `last_error`) and of a
pydantic `ValidationError`, naming the cause (field path and message), never pydantic's
"For further information visit ..." line."""

from __future__ import annotations

import re

import pydantic

_PYDANTIC_HEADER = re.compile(r"(?:[\w.]+\.)?ValidationError: (\d+) validation errors? for (.+)")
_TYPE_TAIL = re.compile(r"\s*\[type=[^\]]*\]$")


def validation_summary(exc: pydantic.ValidationError) -> str:
    """Every error of `exc` as `field.path: message`, joined with "; " (one line)."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(the payload)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) or str(exc).splitlines()[0]


def error_summary(text: str | None) -> str:
    """The line of a stored traceback that names the cause: the final exception as
    `Type: message` (`ValidationError: field.path: message (+N more)` for pydantic's), or the
    first line of text that is not a traceback."""
    lines = [line.rstrip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if not starts:
        return lines[0].strip()
    block = lines[starts[-1] + 1:]
    header_at = next((i for i, line in enumerate(block) if not line.startswith(" ")), None)
    if header_at is None:
        return lines[-1].strip()
    header, rest = block[header_at], block[header_at + 1:]
    pydantic_error = _PYDANTIC_HEADER.fullmatch(header)
    if pydantic_error:
        locations = [i for i, line in enumerate(rest) if not line.startswith(" ")]
        if locations:
            first = locations[0]
            message = rest[first + 1].strip() if first + 1 < len(rest) else ""
            more = int(pydantic_error[1]) - 1
            return (f"ValidationError: {rest[first].strip()}: {_TYPE_TAIL.sub('', message)}"
                    + (f" (+{more} more)" if more > 0 else ""))
    kind, colon, message = header.partition(": ")
    return f"{kind.rsplit('.', 1)[-1]}{colon}{message}".strip()
