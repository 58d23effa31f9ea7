"""What the checker reports: a `Finding` per problem (or notable change), with a `Severity`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tidings.checker._rules import Rule
from tidings.checker._witness import Witness


class Severity(StrEnum):
    """How bad a finding is; `--fail-on` picks the lowest one that fails the run."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error."""
        return ("info", "warning", "error").index(self.value)


@dataclass(frozen=True)
class Finding:
    """One thing the checker found.

    `subject` is the event, command or context it is about; `pointer` a JSON pointer inside the
    payload; `old`/`new` the values compared; `broken` the directions (``backward``, ``forward``)
    the change breaks; `file`/`line`/`column` where to look (a catalog file or a source file);
    `baseline` what it was compared against (a git ref, a commit or a path).

    A finding that breaks a direction carries its proof: `witness`, an example message the
    writer's schema accepts and the reader's refuses (checked with a validator), with
    `witness_direction` the direction it proves; or, when none was found, `unproven`, the reason,
    and the finding is only "possibly breaking".
    """

    rule: Rule
    severity: Severity
    message: str
    subject: str | None = None
    pointer: str | None = None
    old: Any = None
    new: Any = None
    broken: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None
    column: int | None = None
    baseline: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    witness: Witness | None = field(default=None, compare=False)
    witness_direction: str | None = field(default=None, compare=False)
    unproven: str | None = field(default=None, compare=False)

    @property
    def verdict(self) -> str:
        """``breaking`` (a witness proves it), ``possibly breaking`` (none was found),
        or ``-`` for a finding that breaks no direction."""
        if self.witness is not None:
            return "breaking"
        if self.unproven is not None:
            return "possibly breaking"
        return "-"

    def proof(self) -> str | None:
        """One line on the witness (or on why there is none), for the report formats."""
        if self.witness is not None:
            old_side = self.witness_direction == "backward"
            writer, reader = ("old", "new") if old_side else ("new", "old")
            return (f"example: {writer} producers may send {self.witness.text}; readers on the "
                    f"{reader} schema refuse it: {self.witness.refusal}")
        if self.unproven is not None:
            return f"possibly breaking: no example message found ({self.unproven})"
        return None

    @property
    def where(self) -> str:
        """``file:line:column`` (as much as is known), or ``-``."""
        if not self.file:
            return "-"
        parts = [self.file]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def sort_key(self) -> tuple[Any, ...]:
        """Order: file, line, rule id, subject, pointer."""
        return (self.file or "~", self.line or 0, self.rule.id, self.subject or "",
                self.pointer or "", str(self.baseline or ""))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the `--format json` entry)."""
        return {
            "rule": self.rule.id,
            "name": self.rule.name,
            "severity": self.severity.value,
            "message": self.message,
            "subject": self.subject,
            "pointer": self.pointer,
            "old": self.old,
            "new": self.new,
            "broken": list(self.broken),
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "baseline": self.baseline,
            "follows": self.rule.follows,
            "verdict": self.verdict,
            "witness": None if self.witness is None else {
                "instance": self.witness.instance,
                "refusal": self.witness.refusal,
                "direction": self.witness_direction,
                "found_by": self.witness.found_by,
            },
            "unproven": self.unproven,
            "definition": self.extra.get("definition"),
            "affects": self.extra.get("affects"),
        }
