"""Compare a catalog with baselines: lineage (removed, kind, version) and payload compatibility per
each message's mode (NONE / BACKWARD / FORWARD / FULL, and _TRANSITIVE over git history)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from tidings.catalog import Catalog, Compatibility, MessageDef
from tidings.checker import _rules as R
from tidings.checker._baseline import Baseline, MessageStub
from tidings.checker._findings import Finding, Severity
from tidings.checker._schema_diff import Policy, SchemaChange, compare_schemas
from tidings.checker._witness import Witness, find_witness
from tidings.checker._yaml_lines import locate, locate_definition

_REQUIRED: dict[str, frozenset[str]] = {
    "NONE": frozenset(),
    "BACKWARD": frozenset({"backward"}),
    "FORWARD": frozenset({"forward"}),
    "FULL": frozenset({"backward", "forward"}),
}

_MEANING = {
    "backward": "readers on the new schema cannot read messages the old one allowed "
                "(stored messages no longer replay)",
    "forward": "readers still on the old schema cannot read messages the new one allows",
}


def required_directions(mode: Compatibility | str) -> frozenset[str]:
    """The directions a compatibility mode requires (``FULL_TRANSITIVE`` -> backward+forward)."""
    return _REQUIRED[str(mode).removesuffix("_TRANSITIVE")]


def is_transitive(mode: Compatibility | str) -> bool:
    """True for the _TRANSITIVE modes."""
    return str(mode).endswith("_TRANSITIVE")


def _loc(message: MessageDef) -> tuple[str, int, int]:
    return message.location.file, message.location.line, message.location.column


WITNESS_BUDGET = 0.05
"""Seconds of random search per finding when no witness could be constructed from the change."""


def _prove(change: SchemaChange, bad: list[str], old: Any, new: Any, policy: Policy,
           budget: float) -> tuple[Witness | None, str | None, str | None]:
    """(witness, its direction, or the reason none was found) for the first broken direction."""
    direction = (bad or list(change.directions))[0]
    writer, reader = (old, new) if direction == "backward" else (new, old)
    out = find_witness(writer, reader, pointer=change.pointer,
                       declared_only=policy == "lenient", budget=budget)
    if out.witness is not None:
        return out.witness, direction, None
    return None, direction, out.reason


def _change_finding(
    change: SchemaChange, message: MessageDef, baseline: str, old_payload: Any = None,
    new_payload: Any = None, policy: Policy = "lenient", witness_budget: float | None = None,
    catalog: Catalog | None = None,
) -> Finding:
    required = required_directions(message.compatibility)
    broken = set(change.directions)
    bad = sorted(broken & required)
    witness: Witness | None = None
    direction: str | None = None
    unproven: str | None = None
    if broken and witness_budget is not None:
        witness, direction, unproven = _prove(change, bad, old_payload, new_payload, policy,
                                              witness_budget)
    file, line, column = _loc(message)
    section = "events" if message.kind == "event" else "commands"
    found = locate(file, section, message.name, change.pointer)
    if found is not None:
        line, column = found
    extra: dict[str, Any] = {}
    definition = _shared_definition(change, catalog)
    if definition is not None and catalog is not None:
        at = locate_definition(catalog.files, definition, change.ref_pointer)
        if at is not None:  # the change is in a shared definition: report it where it is
            file, line, column = at
            extra = {"definition": definition, "definition_pointer": change.ref_pointer,
                     "affects": [message.name]}
    where = change.pointer or "/"
    if isinstance(change.old, list) and isinstance(change.new, list):
        gone = [v for v in change.old if v not in change.new]
        came = [v for v in change.new if v not in change.old]
        detail = "; ".join(
            f"{label} {', '.join(json.dumps(v) for v in vals)}"
            for label, vals in (("removed", gone), ("added", came)) if vals)
        where = f"{where} ({detail})" if detail else where
    breaks = "possibly breaks" if unproven is not None else "breaks"
    if bad:
        why = "; ".join(_MEANING[d] for d in bad)
        message_text = (
            f"{message.kind} {message.name!r} payload {where}: {change.rule.summary}. This {breaks} "
            f"{message.compatibility} compatibility against {baseline}: {why}. Make the change "
            f"compatible, or bump `version` to {message.version + 1} and add an upcaster from "
            f"v{message.version} (@bus.upcaster({message.name!r}, from_version={message.version}))"
        )
        severity = Severity.ERROR
    elif broken:
        message_text = (
            f"{message.kind} {message.name!r} payload {where}: {change.rule.summary}. It {breaks} "
            f"{', '.join(sorted(broken))} compatibility ({'; '.join(_MEANING[d] for d in sorted(broken))}), "
            f"which {message.compatibility} allows"
        )
        severity = Severity.INFO if str(message.compatibility) == "NONE" else Severity.WARNING
    else:
        message_text = (
            f"{message.kind} {message.name!r} payload {where}: {change.rule.summary} "
            "(compatible both ways)"
        )
        severity = Severity.INFO
    return Finding(
        rule=change.rule, severity=severity, message=message_text, subject=message.name,
        pointer=change.pointer, old=change.old, new=change.new, broken=change.directions,
        file=file, line=line, column=column, baseline=baseline,
        witness=witness, witness_direction=direction, unproven=unproven, extra=extra,
    )


def _shared_definition(change: SchemaChange, catalog: Catalog | None) -> str | None:
    """The name of the catalog's shared `$defs` entry the change lies in, if any."""
    if catalog is None or not change.ref or not change.ref.startswith("#/$defs/"):
        return None
    name = change.ref.removeprefix("#/$defs/").replace("~1", "/").replace("~0", "~")
    return name if name in catalog.shared_defs else None


def _merge_shared(findings: list[Finding]) -> list[Finding]:
    """One finding per change of a shared definition, at the definition, listing every message
    it affects (the most severe message's finding speaks for them)."""
    groups: dict[tuple[Any, ...], list[Finding]] = {}
    out: list[Finding] = []
    for f in findings:
        name = f.extra.get("definition")
        if name is None:
            out.append(f)
            continue
        key = (name, f.extra.get("definition_pointer"), f.rule.id, repr(f.old), repr(f.new),
               f.baseline)
        if key not in groups:
            groups[key] = []
            out.append(f)  # placeholder, replaced below
        groups[key].append(f)
    merged: dict[int, Finding] = {}
    for group in groups.values():
        worst = max(group, key=lambda f: (f.severity.rank, f.witness is not None))
        names = sorted({n for f in group for n in f.extra.get("affects", [])})
        text = (f"shared definition {group[0].extra['definition']!r} changed; it affects "
                f"{len(names)} message(s): {', '.join(names)}. {worst.message}")
        merged[id(group[0])] = replace(
            worst, message=text, extra={**worst.extra, "affects": names})
    return [merged.get(id(f), f) for f in out]


def compare_message(
    old: MessageDef, new: MessageDef, baseline: str, *, policy: Policy = "lenient",
    lineage: bool = True, witness_budget: float | None = WITNESS_BUDGET,
    catalog: Catalog | None = None, upcasters: Mapping[tuple[str, int], str] | None = None,
) -> list[Finding]:
    """Findings for one message against its baseline version: kind/version lineage, then the
    payload changes classified by the new message's compatibility mode. Each change that breaks
    a direction carries a witness (or the reason none was found within `witness_budget` seconds
    of search); `witness_budget=None` looks for none. With the `catalog` the message belongs
    to, a change inside one of its shared `$defs` is reported at that definition's file:line.

    A version bump is compared too: when the new payload no longer reads what the old one
    allowed (backward), every step from the old version up needs an upcaster, found in
    `upcasters` ((name, from_version) -> where, from the scanned code); a missing one is an
    error (`TID-L008`) unless the compatibility mode is NONE."""
    file, line, column = _loc(new)
    if old.kind != new.kind:
        return [Finding(
            R.KIND_CHANGED, Severity.ERROR,
            f"{new.name!r} was a {old.kind} in {baseline} and is a {new.kind} now; a message keeps "
            "its kind: add a new message with its own name instead",
            subject=new.name, old=old.kind, new=new.kind, file=file, line=line, column=column,
            baseline=baseline)]
    if new.version < old.version:
        return [Finding(
            R.VERSION_DECREASED, Severity.ERROR,
            f"{new.kind} {new.name!r} has version {new.version}, lower than {old.version} in "
            f"{baseline}; versions only go up",
            subject=new.name, old=old.version, new=new.version, file=file, line=line,
            column=column, baseline=baseline)]
    if new.version > old.version:
        if not lineage:
            return []
        return _bumped(old, new, baseline, policy, upcasters or {})
    if old.fingerprint == new.fingerprint:
        return []
    changes = compare_schemas(old.resolved_payload, new.resolved_payload, policy=policy)
    return [_change_finding(c, new, baseline, old.resolved_payload, new.resolved_payload, policy,
                            witness_budget, catalog) for c in changes]


def compare_catalogs(
    current: Catalog, baseline: Baseline, *, policy: Policy = "lenient",
    history: Sequence[Baseline] = (), history_note: str | None = None,
    witness_budget: float | None = WITNESS_BUDGET,
    upcasters: Mapping[tuple[str, int], str] | None = None,
) -> list[Finding]:
    """Every lineage and compatibility finding of `current` against `baseline`, plus, for
    messages in a _TRANSITIVE mode, against each catalog in `history` (same lineage only).
    Breaking findings carry witnesses (see `compare_message`, also for `upcasters`)."""
    findings: list[Finding] = []
    old_catalog = baseline.catalog
    if old_catalog is None:
        findings.append(Finding(
            R.BASELINE_EMPTY, Severity.WARNING,
            f"{baseline.label} has no catalog files where this catalog is; nothing was compared "
            "(a new catalog, a moved directory, or the wrong --against?)",
            baseline=baseline.label, file=current.files[0] if current.files else None))
        return findings
    current_names = {m.name for m in current.messages()}
    stubs = baseline.index if baseline.index is not None else {
        m.name: MessageStub(m.name, m.kind, m.version, m.location.file, m.location.line)
        for m in old_catalog.messages()
    }
    for stub in sorted(stubs.values(), key=lambda s: s.name):
        if stub.name not in current_names:
            findings.append(Finding(
                R.MESSAGE_REMOVED, Severity.ERROR,
                f"{stub.kind} {stub.name!r} exists in {baseline.label} but not here: stored "
                "messages can no longer be replayed and its producers and consumers break. "
                "Keep it (mark it `deprecated: true`), or ignore this finding with a reason",
                subject=stub.name, old=stub.name, new=None, file=stub.file,
                line=stub.line or None, baseline=baseline.label))
    for new in current.messages():
        unchanged = new.location.file in baseline.unchanged_files
        if new.name not in stubs and not unchanged:
            file, line, column = _loc(new)
            findings.append(Finding(
                R.MESSAGE_ADDED, Severity.INFO, f"new {new.kind} {new.name!r}",
                subject=new.name, file=file, line=line, column=column, baseline=baseline.label))
            continue
        try:
            old = new if unchanged else old_catalog.message(new.name)
        except KeyError:  # pruned from the baseline: unchanged since
            old = new
        direct = compare_message(old, new, baseline.label, policy=policy,
                                 witness_budget=witness_budget, catalog=current,
                                 upcasters=upcasters)
        findings.extend(direct)
        if is_transitive(new.compatibility) and history:
            findings.extend(_transitive(new, old, history, policy, {_key(f) for f in direct},
                                        witness_budget, current))
        elif is_transitive(new.compatibility) and history_note:
            file, line, column = _loc(new)
            findings.append(Finding(
                R.TRANSITIVE_HISTORY_UNAVAILABLE, Severity.WARNING,
                f"{new.kind} {new.name!r} is {new.compatibility}, but {history_note}; it was "
                f"compared with {baseline.label} only",
                subject=new.name, file=file, line=line, column=column, baseline=baseline.label))
    return _merge_shared(findings)


def _bumped(old: MessageDef, new: MessageDef, baseline: str, policy: Policy,
            upcasters: Mapping[tuple[str, int], str]) -> list[Finding]:
    """The findings of a version bump: what breaks stored messages of the old version, and
    whether upcasters cover every step from it."""
    file, line, column = _loc(new)
    breaking = [] if str(new.compatibility) == "NONE" or old.fingerprint == new.fingerprint else [
        c for c in compare_schemas(old.resolved_payload, new.resolved_payload, policy=policy)
        if "backward" in c.directions]
    steps = range(old.version, new.version)
    missing = [n for n in steps if (new.name, n) not in upcasters]
    if breaking and missing:
        # the outermost change, a type change first: the cause, not its consequences
        change = min(breaking, key=lambda c: ((c.pointer or "").count("/"), "type" not in c.rule.name))
        more = f" (and {len(breaking) - 1} more)" if len(breaking) > 1 else ""
        section = "events" if new.kind == "event" else "commands"
        found = locate(file, section, new.name, change.pointer)
        at_line, at_column = found if found is not None else (line, column)
        calls = ", ".join(f"@bus.upcaster({new.name!r}, from_version={n})" for n in missing)
        return [Finding(
            R.VERSION_BUMPED_WITHOUT_UPCASTER, Severity.ERROR,
            f"{new.kind} {new.name!r} went from version {old.version} to {new.version} and its "
            f"payload {change.pointer or '/'} changed ({change.rule.summary}){more}: messages "
            f"stored as v{old.version} no longer fit and no scanned code has an upcaster from "
            f"v{missing[0]}, so they go dead when replayed: add an upcaster or keep the change "
            f"compatible ({calls}; `tidings check --code DIR` finds it)",
            subject=new.name, pointer=change.pointer, old=old.version, new=new.version,
            broken=change.directions, file=file, line=at_line, column=at_column,
            baseline=baseline, extra={"missing_upcasters": missing})]
    covered = "; stored messages are read through the upcasters at " + ", ".join(
        upcasters[(new.name, n)] for n in steps) if breaking else ""
    return [Finding(
        R.VERSION_BUMPED, Severity.INFO,
        f"{new.kind} {new.name!r} went from version {old.version} to {new.version}: a new "
        f"lineage starts{covered}",
        subject=new.name, old=old.version, new=new.version, file=file, line=line,
        column=column, baseline=baseline)]


def _key(f: Finding) -> tuple[str, str | None, str, str]:
    return (f.rule.id, f.pointer, repr(f.old), repr(f.new))


def _transitive(
    new: MessageDef, baseline_version: MessageDef, history: Sequence[Baseline], policy: Policy,
    known: set[tuple[str, str | None, str, str]], witness_budget: float | None,
    catalog: Catalog,
) -> list[Finding]:
    """Findings against each earlier version of the same lineage, each distinct change once."""
    seen = {baseline_version.fingerprint}
    out: list[Finding] = []
    for past in history:
        if past.catalog is None:
            continue
        try:
            old = past.catalog.message(new.name)
        except KeyError:
            continue
        if old.version != new.version or old.kind != new.kind or old.fingerprint in seen:
            continue
        seen.add(old.fingerprint)
        for f in compare_message(old, new, past.label, policy=policy, lineage=False,
                                 witness_budget=witness_budget, catalog=catalog):
            key = _key(f)
            if key not in known:
                known.add(key)
                out.append(f)
    return out
