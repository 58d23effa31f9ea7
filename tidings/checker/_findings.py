"""What the checker reports: a `Finding` per problem (or notable change), with a `Severity`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tidings.checker._rules import Rule


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
        }
