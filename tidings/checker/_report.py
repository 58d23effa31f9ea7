"""Render a `CheckResult` for people (text, markdown) and machines (json, github, junit)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tidings.checker._findings import Finding, Severity
from tidings.checker._ignore import IgnoreEntry

FORMATS = ("text", "json", "github", "junit", "markdown")


@dataclass
class CheckResult:
    """What one `tidings check` run found: kept `findings`, `ignored` ones (with the entry that
    accepted each), and what was compared (`catalog`, `baseline`, `code`)."""

    findings: list[Finding]
    ignored: list[tuple[Finding, IgnoreEntry]] = field(default_factory=list)
    catalog: str = ""
    baseline: str | None = None
    code: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.ERROR

    def failing(self) -> list[Finding]:
        """Findings at or above `fail_on`."""
        return [f for f in self.findings if f.severity.rank >= self.fail_on.rank]

    @property
    def exit_code(self) -> int:
        """0 when nothing reaches `fail_on`, else 1."""
        return 1 if self.failing() else 0

    def counts(self) -> dict[str, int]:
        """Findings per severity (every severity present, zero included)."""
        c = Counter(f.severity.value for f in self.findings)
        return {s.value: c.get(s.value, 0) for s in Severity}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _shows_values(f: Finding) -> bool:
    return f.pointer is not None or f.rule.id.startswith("TID-L")


def _summary(result: CheckResult) -> str:
    c = result.counts()
    parts = [f"{c['error']} error(s)", f"{c['warning']} warning(s)", f"{c['info']} info"]
    if result.ignored:
        parts.append(f"{len(result.ignored)} ignored")
    unproven = sum(1 for f in result.findings if f.unproven is not None)
    if unproven:
        parts.append(f"{unproven} possibly breaking (no example found)")
    verdict = "FAILED" if result.exit_code else "passed"
    against = f" against {result.baseline}" if result.baseline else ""
    return f"tidings check {verdict}{against}: {', '.join(parts)} (fail on {result.fail_on.value})"


def render_text(result: CheckResult, *, verbose: bool = False) -> str:
    """One line per finding (`file:line:col: severity RULE name [subject pointer]: message`);
    info findings only when `verbose`; a summary line last."""
    lines: list[str] = []
    for f in sorted(result.findings, key=Finding.sort_key):
        if f.severity is Severity.INFO and not verbose:
            continue
        head = f"{f.where}: {f.severity.value} {f.rule.id} {f.rule.name}"
        shown = _shows_values(f)
        tail = f"\n    old: {_short(f.old)}\n    new: {_short(f.new)}" if shown else ""
        proof = f.proof()
        tail += f"\n    {proof}" if proof else ""
        lines.append(f"{head}: {f.message}{tail}")
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: CheckResult) -> str:
    """GitHub Actions workflow commands: ``::error file=...,line=...,col=...,title=...::message``
    (``::warning`` / ``::notice`` by severity), then the summary as a plain line."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines: list[str] = []
    for f in sorted(result.findings, key=Finding.sort_key):
        props: list[str] = []
        if f.file:
            props.append(f"file={_gh_prop(f.file)}")
            if f.line:
                props.append(f"line={f.line}")
                if f.column:
                    props.append(f"col={f.column}")
        props.append(f"title={_gh_prop(f'{f.rule.id} {f.rule.name}')}")
        detail = f.message
        if _shows_values(f):
            detail += f"\nold: {_short(f.old)}\nnew: {_short(f.new)}"
        if f.proof():
            detail += f"\n{f.proof()}"
        lines.append(f"::{level[f.severity]} {','.join(props)}::{_gh_data(detail)}")
    lines.append(_summary(result))
    return "\n".join(lines) + "\n"


def render_json(result: CheckResult) -> str:
    """A JSON document: summary, exit code, findings and ignored findings with their reasons."""
    doc = {
        "tool": "tidings check",
        "catalog": result.catalog,
        "baseline": result.baseline,
        "code": result.code,
        "fail_on": result.fail_on.value,
        "exit_code": result.exit_code,
        "summary": result.counts(),
        "findings": [f.to_dict() for f in sorted(result.findings, key=Finding.sort_key)],
        "ignored": [
            {**f.to_dict(), "reason": e.reason, "until": e.until.isoformat() if e.until else None}
            for f, e in result.ignored
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n"


def render_junit(result: CheckResult) -> str:
    """JUnit XML: one test case per finding, a failure for those at or above `fail_on`; a single
    passing case when there is nothing to report."""
    failing = {id(f) for f in result.failing()}
    suite = ET.Element("testsuite", name="tidings check", tests=str(max(1, len(result.findings))),
                       failures=str(len(failing)), errors="0", skipped="0")
    for f in sorted(result.findings, key=Finding.sort_key):
        case = ET.SubElement(suite, "testcase", classname=f"tidings.{f.rule.id}",
                             name=f"{f.rule.name} {f.subject or ''} {f.pointer or ''}".strip(),
                             file=f.file or "", line=str(f.line or 0))
        if id(f) in failing:
            fail = ET.SubElement(case, "failure", type=f.rule.id, message=f.message)
            fail.text = f"{f.where}: {f.message}\nold: {_short(f.old)}\nnew: {_short(f.new)}"
            if f.proof():
                fail.text += f"\n{f.proof()}"
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"{f.severity.value}: {f.where}: {f.message}"
            if f.proof():
                out.text += f"\n{f.proof()}"
    if not result.findings:
        ET.SubElement(suite, "testcase", classname="tidings", name="catalog is clean")
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_proof(f: Finding) -> str:
    if f.witness is not None:
        return (f"example `{_md(f.witness.text)}` refused: {_md(f.witness.refusal)}")
    if f.unproven is not None:
        return f"possibly breaking: {_md(f.unproven)}"
    return ""


def render_markdown(result: CheckResult) -> str:
    """A Markdown summary and table (for a pull-request comment or the job summary)."""
    icon = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.INFO: "🛈"}
    lines = [f"### {_summary(result)}", ""]
    if result.findings:
        lines += ["| | Rule | Where | Subject | Pointer | Broken | Message | Proof |",
                  "|---|---|---|---|---|---|---|---|"]
        for f in sorted(result.findings, key=lambda f: (-f.severity.rank, *f.sort_key())):
            lines.append(
                f"| {icon[f.severity]} | `{f.rule.id}` {f.rule.name} | `{_md(f.where)}` | "
                f"{_md(f.subject or '')} | `{_md(f.pointer or '')}` | {', '.join(f.broken)} | "
                f"{_md(f.message)} | {_md_proof(f)} |")
    if result.ignored:
        lines += ["", "<details><summary>Ignored</summary>", ""]
        for f, e in result.ignored:
            lines.append(f"- `{f.rule.id}` {_md(f.subject or '')}: {_md(e.reason)}")
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[CheckResult], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit,
    "markdown": render_markdown,
}
