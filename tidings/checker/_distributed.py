"""Messages that cross the wire: distributed in the catalog (declared `distributed: true`, or
produced, consumed or handled by a context with a `transport`), and how code subscribes to them."""

from __future__ import annotations

from collections.abc import Sequence

from tidings.catalog import Catalog, Compatibility, MessageDef
from tidings.checker import _rules as R
from tidings.checker._code import Use
from tidings.checker._findings import Finding, Severity

_BOTH_WAYS = frozenset({Compatibility.FULL, Compatibility.FULL_TRANSITIVE})


def why_distributed(catalog: Catalog, message: MessageDef) -> str:
    """Why a distributed message crosses the wire: ``context 'metis' has transport nats``,
    ``contexts 'a' (nats) and 'b' (sns-sqs) have transports`` or ``declared `distributed: true```.
    """
    transports = catalog.transports(message)
    if not transports:
        return "declared `distributed: true`"
    if len(transports) == 1:
        ((name, transport),) = transports.items()
        return f"context {name!r} has transport {transport}"
    listed = [f"{name!r} ({transport})" for name, transport in transports.items()]
    return f"contexts {', '.join(listed[:-1])} and {listed[-1]} have transports"


def distribution_findings(catalog: Catalog) -> list[Finding]:
    """A warning for every distributed message whose compatibility is weaker than FULL (or
    FULL_TRANSITIVE): its producers and consumers are different services that deploy
    independently, so old readers meet new messages (FORWARD) and new readers meet old ones
    (BACKWARD, and replays)."""
    out: list[Finding] = []
    for m in catalog.messages():
        if not m.distributed or m.compatibility in _BOTH_WAYS:
            continue
        loc = m.location
        mode = m.compatibility.value
        out.append(Finding(
            R.DISTRIBUTED_COMPATIBILITY, Severity.WARNING,
            f"{m.kind} {m.name!r} is distributed ({why_distributed(catalog, m)}) but its "
            f"compatibility is {mode}: its producers and consumers deploy independently, so both "
            "directions must hold; set `compatibility: FULL` (or FULL_TRANSITIVE)",
            subject=m.name, new=mode, file=loc.file, line=loc.line, column=loc.column))
    return out


def wire_sync_findings(uses: Sequence[Use], catalog: Catalog) -> list[Finding]:
    """An error for every subscription in code to a distributed message in sync mode (given, or
    the default) that does not pass `remote=False` (`emit` cannot wait for a subscriber on the
    other side of a broker, so the bus refuses it), and for every `remote=True` subscription to
    a message that is not distributed (it never reaches the broker; the bus refuses that too).
    Calls whose mode or `remote` the AST cannot tell (a variable, `**kwargs`) are left alone."""
    out: list[Finding] = []
    known = {m.name: m for m in catalog.messages()}
    for u in uses:
        message = known.get(u.name)
        if message is None or u.kind != "subscribe":
            continue
        if not message.distributed:
            if u.remote == "True":
                out.append(Finding(
                    R.REMOTE_NOT_DISTRIBUTED, Severity.ERROR,
                    f"{u.via}(...) subscribes to {message.kind} {u.name!r} with remote=True, but "
                    f"{u.name!r} is not distributed: it never crosses the wire; drop "
                    "`remote=True`, or declare it `distributed: true` in the catalog",
                    subject=u.name, new=u.remote, file=u.file, line=u.line, column=u.column))
            continue
        if u.mode != "sync" or u.remote not in ("", "None", "True"):
            continue
        remote = f" with remote={u.remote}" if u.remote else ""
        out.append(Finding(
            R.DISTRIBUTED_SYNC_SUBSCRIBER, Severity.ERROR,
            f"{u.via}(...) subscribes to {message.kind} {u.name!r} in sync mode{remote}, but "
            f"{u.name!r} is distributed ({why_distributed(catalog, message)}), and sync cannot be "
            "honoured across the wire; pass `remote=False` to keep this subscriber in-process, "
            "or subscribe with mode=\"async\" or mode=\"serial\"",
            subject=u.name, new=u.mode, file=u.file, line=u.line, column=u.column))
    return out
