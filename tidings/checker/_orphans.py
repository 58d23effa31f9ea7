"""Orphans visible in the catalog alone: who produces, consumes and handles what."""

from __future__ import annotations

from tidings.catalog import Catalog, MessageDef
from tidings.checker import _rules as R
from tidings.checker._findings import Finding, Severity


def _at(message: MessageDef) -> tuple[str, int, int]:
    loc = message.location
    return loc.file, loc.line, loc.column


def catalog_orphans(catalog: Catalog) -> list[Finding]:
    """Events nobody consumes, messages nobody produces, commands without exactly one handler,
    contexts named but not declared or declared but unused, deprecated messages still produced."""
    out: list[Finding] = []
    used: set[str] = set()
    for m in catalog.messages():
        at = _at(m)
        handlers = (m.handler,) if m.handler else ()
        used.update(m.producers, m.consumers, handlers)
        if m.kind == "event" and not m.consumers:
            out.append(Finding(
                R.EVENT_NOT_CONSUMED, Severity.WARNING,
                f"event {m.name!r} has no consumers: it is emitted into the void; list the "
                "contexts that react under `consumers:`, or deprecate it",
                subject=m.name, file=at[0], line=at[1], column=at[2]))
        if not m.producers:
            out.append(Finding(
                R.MESSAGE_NOT_PRODUCED, Severity.WARNING,
                f"{m.kind} {m.name!r} has no producers: nothing ever sends it, so its "
                f"{'consumers wait' if m.kind == 'event' else 'handler waits'} for nothing; list "
                "the contexts that send it under `producers:` (a context such as `ops` for "
                "messages sent by hand)",
                subject=m.name, file=at[0], line=at[1], column=at[2]))
        if m.kind == "command" and (not m.handler or len(set(m.consumers)) != 1):
            out.append(Finding(
                R.COMMAND_HANDLER, Severity.ERROR,
                f"command {m.name!r} has {len(set(m.consumers)) if m.handler else 'no'} handling "
                "contexts; a command is handled by exactly one: write `handler: <context>`",
                subject=m.name, new=list(m.consumers), file=at[0], line=at[1], column=at[2]))
        for role, names in (("producers", m.producers), ("consumers", m.consumers),
                            ("handler", handlers)):
            for name in names:
                if name not in catalog.contexts:
                    out.append(Finding(
                        R.CONTEXT_NOT_DECLARED, Severity.ERROR,
                        f"{m.kind} {m.name!r} names context {name!r} under `{role}` but it is "
                        "not declared; add it under `contexts:`",
                        subject=name, file=at[0], line=at[1], column=at[2]))
        if m.deprecated and m.producers:
            out.append(Finding(
                R.DEPRECATED_PRODUCED, Severity.WARNING,
                f"{m.kind} {m.name!r} is deprecated but still produced by "
                f"{', '.join(m.producers)}; move them to its replacement, then empty `producers`",
                subject=m.name, new=list(m.producers), file=at[0], line=at[1], column=at[2]))
    for name, ctx in catalog.contexts.items():
        if name not in used:
            out.append(Finding(
                R.CONTEXT_UNUSED, Severity.WARNING,
                f"context {name!r} is declared but produces, consumes and handles nothing; use it "
                "or remove it",
                subject=name, file=ctx.location.file, line=ctx.location.line,
                column=ctx.location.column))
    return out
