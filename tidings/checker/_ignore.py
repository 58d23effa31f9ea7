"""`.tidings-ignore.yaml`: accepted findings, each with a required reason.

```yaml
- rule: TID-C012            # a rule id or name (required)
  subject: shipmentCreated  # the event, command or context (optional; `event:` works too)
  pointer: /properties/x    # the JSON pointer, exact (optional)
  file: app/legacy.py       # the file of the finding (optional)
  reason: Field was never sent by any producer; ticket FRE-123   # required
  until: 2026-12-31         # optional: the entry stops applying after this date
```
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tidings._errors import UserError
from tidings.checker import _rules as R
from tidings.checker._findings import Finding, Severity
from tidings.checker._rules import rule_by_key

_KEYS = {"rule", "subject", "event", "pointer", "file", "reason", "until"}


@dataclass(frozen=True)
class IgnoreEntry:
    """One accepted finding pattern; None fields match anything."""

    rule: str
    reason: str
    subject: str | None = None
    pointer: str | None = None
    file: str | None = None
    until: dt.date | None = None
    line: int = 0

    def matches(self, finding: Finding) -> bool:
        """True when `finding` is the one this entry accepts."""
        return (
            finding.rule.id == self.rule
            and (self.subject is None or finding.subject == self.subject)
            and (self.pointer is None or finding.pointer == self.pointer)
            and (self.file is None or finding.file == self.file)
        )


def load_ignore_file(path: Path) -> list[IgnoreEntry]:
    """The entries of an ignore file; a missing file is no entries. Raises `UserError` for a
    malformed one, naming the entry and the fix (a missing `reason` is an error)."""
    if not path.exists():
        return []
    shown = path.as_posix()
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"{shown}: not valid YAML ({exc}); fix the syntax") from exc
    items_node = node
    if isinstance(data, dict) and "ignore" in data:
        data = data["ignore"]
        if isinstance(node, yaml.MappingNode):
            items_node = next((v for k, v in node.value if k.value == "ignore"), node)
    if data is None:
        return []
    if not isinstance(data, list):
        raise UserError(f"{shown}: expected a list of entries (`- rule: ...` with a `reason`)")
    lines = [
        n.start_mark.line + 1 for n in getattr(items_node, "value", [])
        if isinstance(n, yaml.Node)
    ]
    out: list[IgnoreEntry] = []
    for i, item in enumerate(data):
        line = lines[i] if i < len(lines) else 0
        where = f"{shown}:{line}" if line else f"{shown} entry {i + 1}"
        if not isinstance(item, dict):
            raise UserError(f"{where}: an entry is a mapping with `rule` and `reason`")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise UserError(f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(_KEYS))}")
        rule = rule_by_key(str(item.get("rule", "")))
        if rule is None:
            raise UserError(
                f"{where}: `rule` must be a rule id or name (e.g. TID-C012 or property-removed), "
                f"got {item.get('rule')!r}; `tidings check --list-rules` lists them")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(
                f"{where}: `reason` is required for {rule.id} {rule.name}: say why this finding "
                "is accepted (a ticket, a date, who decided)")
        until = item.get("until")
        if until is not None and not isinstance(until, dt.date):
            try:
                until = dt.date.fromisoformat(str(until))
            except ValueError as exc:
                raise UserError(f"{where}: `until` must be a date like 2026-12-31") from exc
        subject = item.get("subject", item.get("event"))
        out.append(IgnoreEntry(
            rule=rule.id, reason=reason.strip(),
            subject=None if subject is None else str(subject),
            pointer=None if item.get("pointer") is None else str(item["pointer"]),
            file=None if item.get("file") is None else str(item["file"]),
            until=until, line=line))
    return out


def apply_ignores(
    findings: Sequence[Finding], entries: Sequence[IgnoreEntry], ignore_file: str,
    *, today: dt.date | None = None,
) -> tuple[list[Finding], list[tuple[Finding, IgnoreEntry]]]:
    """Split findings into kept and ignored (with the entry that ignored each); adds findings
    for unused and expired entries."""
    today = today or dt.date.today()
    active = [e for e in entries if e.until is None or e.until >= today]
    used: set[int] = set()
    kept: list[Finding] = []
    ignored: list[tuple[Finding, IgnoreEntry]] = []
    for f in findings:
        hit = next((i for i, e in enumerate(active) if e.matches(f)), None)
        if hit is None:
            kept.append(f)
        else:
            used.add(hit)
            ignored.append((f, active[hit]))
    for i, e in enumerate(active):
        if i not in used:
            kept.append(Finding(
                R.IGNORE_UNUSED, Severity.WARNING,
                f"ignore entry for {e.rule}"
                f"{' ' + e.subject if e.subject else ''} matches no finding; delete it",
                subject=e.subject, file=ignore_file, line=e.line or None))
    for e in entries:
        if e.until is not None and e.until < today:
            kept.append(Finding(
                R.IGNORE_EXPIRED, Severity.WARNING,
                f"ignore entry for {e.rule}{' ' + e.subject if e.subject else ''} expired on "
                f"{e.until.isoformat()}; fix the finding or extend `until`",
                subject=e.subject, file=ignore_file, line=e.line or None))
    return kept, ignored
