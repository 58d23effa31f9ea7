"""`tidings emit | log | replay | db upgrade | db stats`: the command runner and the event log from a shell.

Settings: `--app module:attribute` (an `EventBus` with a store, or a function returning one) and
`--db URL` (`sqlite:///file.db`, a file path, or `postgresql://...?schema=NAME`) come from the
flags, then `app` / `db` in `[tool.tidings]` of pyproject.toml (paths relative to it), then
`TIDINGS_APP` / `TIDINGS_DB`.

Exit codes: 0 every delivery succeeded, 1 some failed or went dead, 2 bad input or nothing
matched. `log` only reads: it never creates or migrates a database.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import anyio
import click
import pydantic

from tidings._errors import UserError
from tidings._settings import Project, did_you_mean, load_project
from tidings._summary import error_summary, validation_summary
from tidings.runtime import EmitError, EventBus, MessageSpec, MessageTooLarge, UnknownSubscriberError
from tidings.runtime.stores import (
    STATUSES,
    Delivery,
    LogEntry,
    Store,
    StoreError,
    StoreStats,
    open_store,
)

T = TypeVar("T")


def _where(exc: BaseException) -> str:
    """`file:line` of the innermost frame of `exc`'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _import(module_name: str, source: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            raise UserError(
                f"{source}: cannot import {module_name!r} (no module named {missing!r}); check the"
                " module path, run from the project folder or set PYTHONPATH"
            ) from None
        raise UserError(
            f"{source}: importing {module_name!r} failed: its dependency {missing!r} is not"
            f" installed ({exc}); install it in this environment"
        ) from None
    except SyntaxError as exc:
        raise UserError(
            f"{source}: {exc.filename}:{exc.lineno}: syntax error in {module_name!r}: {exc.msg};"
            " fix the module"
        ) from None
    except Exception as exc:
        raise UserError(
            f"{source}: importing {module_name!r} raised {type(exc).__name__}: {exc}{_where(exc)}"
        ) from None


def load_app(flag: str | None, project: Project | None = None) -> EventBus:
    """Import the application's bus from `module:attribute` (a bus, or a function returning one);
    every failure is a one-line `UserError` naming the cause."""
    project = project or load_project()
    found = project.get("app", flag)
    spec, source = found.value, found.source
    if spec is None:
        raise UserError(
            "no application bus given: pass --app module:attribute (or set app in [tool.tidings]"
            " of pyproject.toml, or TIDINGS_APP)"
        )
    module_name, _, attribute = str(spec).partition(":")
    if not module_name or not attribute:
        raise UserError(f"{source}: {spec!r} is not module:attribute, e.g. myapp.events:bus")
    for folder in dict.fromkeys((str(project.root), str(Path.cwd()))):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    target: Any = _import(module_name, source)
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UserError(f"{source}: {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if callable(target) and not isinstance(target, EventBus):
        try:
            target = target()
        except Exception as exc:
            raise UserError(
                f"{source}: {spec}() raised {type(exc).__name__}: {exc}{_where(exc)}"
            ) from None
    if not isinstance(target, EventBus):
        raise UserError(f"{source}: {spec} is a {type(target).__name__}, not an EventBus")
    if target.store is None:
        raise UserError(
            f"{source}: the bus {spec} has no store; create it with EventBus(catalog, store=...)"
        )
    return target


def _store(db: str | None, app: str | None, *, read_only: bool) -> tuple[Store, str]:
    """The event log from --db (or the app's store), read-only for the commands that only read,
    and where it was named."""
    project = load_project()
    found = project.get("db", db)
    if found.value is not None:
        try:
            return open_store(_text(str(found.value), found.source), read_only=read_only), found.source
        except StoreError as exc:
            raise UserError(f"{found.source}: {exc}") from None
    if app is not None or project.get("app").value is not None:
        source = project.get("app", app).source
        store = load_app(app, project).store
        assert store is not None
        try:
            return (store.reader() if read_only else store), source
        except StoreError as exc:
            raise UserError(f"{source}: {exc}") from None
    raise UserError("no event log given: pass --db URL or --app module:bus (or set db/app in"
                    " [tool.tidings], or TIDINGS_DB/TIDINGS_APP)")


_REFUSED = (UserError, StoreError, UnknownSubscriberError, MessageTooLarge)
"""Errors that refuse the command before anything changed: one line, exit 2."""


def _input_errors(exc: BaseException) -> list[Exception]:
    if isinstance(exc, _REFUSED):  # refused, nothing changed
        return [exc]
    if isinstance(exc, BaseExceptionGroup):
        return [found for inner in exc.exceptions for found in _input_errors(inner)]
    return []


def _run(fn: Callable[[], Awaitable[T]], where: str = "") -> T:
    """`anyio.run(fn)`, with a store error (prefixed with `where`, the setting that named the
    store) or bad input, also inside an exception group, as one `UserError`."""
    try:
        return anyio.run(fn)
    except (*_REFUSED, BaseExceptionGroup) as exc:
        errors = _input_errors(exc)
        if not errors:
            raise
        first = errors[0]
        text = str(first).splitlines()[0] if str(first) else type(first).__name__
        prefix = f"{where}: " if where and isinstance(first, StoreError) else ""
        raise UserError(prefix + text) from None


def _text(value: str, option: str) -> str:
    """`value` if it is valid UTF-8 text (arguments with other bytes reach Python as surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UserError(f"{option}: not valid UTF-8 text (at character {exc.start}); pass UTF-8") from None
    return value


def _short(value: UUID | None) -> str:
    # The last 12 digits: a UUIDv7 begins with its timestamp, the same for a whole run.
    return "-" if value is None else str(value)[-12:]


def _delivery_line(row: Delivery) -> str:
    line = f"  {row.subscriber:<32} {row.status:<9} attempts={row.attempts}"
    if row.status == "failed" and row.next_attempt_at is not None:
        line += f" retry at {row.next_attempt_at:%Y-%m-%d %H:%M:%S}"
    if row.status in ("failed", "dead") and row.last_error:
        line += f"  {error_summary(row.last_error)}"
    return line


def _parse_since(value: str) -> datetime:
    match = re.fullmatch(r"(\d+)\s*([smhd])", value.strip())
    if match:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
        return datetime.now(UTC) - timedelta(**{unit: int(match[1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"--since: {value!r} is neither an ISO time (2026-11-26T14:00) nor a duration (30m, 2h, 1d)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


_SUFFIX = re.compile(r"[0-9a-fA-F-]*")
MIN_SUFFIX = 8
"""The fewest hex digits a short id may have."""


def id_shape(value: str, option: str) -> UUID | None:
    """`value` as a whole UUID, or None for a short id (its last `MIN_SUFFIX`+ hex digits);
    `UserError` for anything else."""
    try:
        return UUID(value)
    except ValueError:
        pass
    if not _SUFFIX.fullmatch(value) or len(value.replace("-", "")) < MIN_SUFFIX:
        raise UserError(
            f"{option}: {value!r} is not a message id (a UUID, or its last {MIN_SUFFIX}+ hex digits"
            " as `tidings log` prints them)"
        )
    return None


async def resolve_id(store: Store, value: str, option: str, column: str = "id") -> UUID:
    """The stored id `value` stands for: a whole UUID, or its last digits as `tidings log`
    prints them (at least `MIN_SUFFIX`); `UserError` when none or several stored ids match."""
    whole = id_shape(value, option)
    if whole is not None:
        return whole
    found = await store.find_ids(value.lower(), column=column, limit=6)
    what = "correlation id" if column == "correlation_id" else "message id"
    if not found:
        raise UserError(f"{option}: no stored {what} ends with {value!r}; see `tidings log`")
    if len(found) > 1:
        shown = ", ".join(str(f) for f in found[:5]) + (", ..." if len(found) > 5 else "")
        raise UserError(f"{option}: {value!r} is ambiguous, it ends {shown}; give more digits")
    return found[0]


def _read_payload(payload: str) -> str:
    """PAYLOAD as given: inline JSON, `-` for standard input, or `@FILE`."""
    if payload == "-":
        raw = sys.stdin.buffer.read()
        where = "PAYLOAD (standard input)"
    elif payload.startswith("@"):
        path = Path(payload[1:])
        where = f"PAYLOAD {payload}"
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise UserError(f"{where}: cannot read it ({exc.strerror}); check the path") from None
    else:
        return _text(payload, "PAYLOAD")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})") from None


_PLACEHOLDERS = {"string": "...", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}


def example_payload(spec: MessageSpec) -> str:
    """A JSON object with the required fields of `spec`'s payload, for hints."""
    try:
        schema = spec.model.model_json_schema(by_alias=True)
    except Exception:  # a model pydantic cannot describe: no example
        return "{}"
    properties = schema.get("properties", {})
    example = {name: _PLACEHOLDERS.get(str(properties.get(name, {}).get("type")), "...")
               for name in schema.get("required", [])}
    return json.dumps(example)


def _parse_payload(name: str, spec: MessageSpec, text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"PAYLOAD: not valid JSON ({exc}); pass a JSON object, e.g. '{example_payload(spec)}'"
        ) from None
    except RecursionError:
        raise UserError("PAYLOAD: the JSON is nested too deeply to read") from None
    try:
        validated = spec.model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise UserError(f"PAYLOAD does not match {name!r}: {validation_summary(exc)}") from None
    except RecursionError:
        raise UserError(f"PAYLOAD does not match {name!r}: it is nested too deeply") from None
    from tidings.catalog import undeclared_fields

    for field in undeclared_fields(validated):
        click.echo(f"warning: PAYLOAD: {field}", err=True)
    return data


def _check_producer(producer: str, spec: MessageSpec, bus: EventBus) -> None:
    _text(producer, "--producer")
    if spec.producers:
        if producer not in spec.producers:
            known = ", ".join(spec.producers)
            raise UserError(
                f"--producer: {producer!r} does not produce {spec.name!r}"
                f"{did_you_mean(producer, spec.producers)} (its producers: {known})"
            )
        return
    contexts = sorted({c for m in bus.catalog.messages.values() for c in (*m.producers, *m.consumers)})
    if contexts and producer not in contexts:
        raise UserError(
            f"--producer: {producer!r} is not a context of catalog {bus.catalog.name!r}"
            f"{did_you_mean(producer, contexts)} (contexts: {', '.join(contexts)})"
        )


class _Progress:
    """A click progress bar on standard error, opened at the first report."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _outcome_exit(rows: Sequence[Delivery]) -> None:
    """Exit 1 when a delivery did not succeed."""
    if any(row.status != "succeeded" for row in rows):
        sys.exit(1)


_APP = click.option("--app", "app", metavar="MODULE:BUS", help="The application's EventBus.")
_DB = click.option("--db", "db", metavar="URL", help="The event log: sqlite:///file.db or postgresql://...")
_SECONDS = click.FloatRange(min=0)


@click.command("emit")
@click.argument("name")
@click.argument("payload")
@_APP
@click.option("--producer", help="Stored as the message's producer (a context that produces it).")
@click.option("--wait", "wait", type=_SECONDS, default=10.0, show_default=True, metavar="SECONDS",
              help="Seconds to wait for every delivery to succeed or go dead (retries included);"
                   " what is still failed then is retried by the next bus that starts.")
def emit_command(name: str, payload: str, app: str | None, producer: str | None, wait: float) -> None:
    """Validate PAYLOAD (JSON; `-` reads standard input, `@FILE` a file) against the catalog,
    store and dispatch it through the app's bus, and print the message id and every delivery's
    outcome. Exit 0 all succeeded, 1 one failed or went dead, 2 bad input.

    A command must have exactly one handler subscribed in the app.
    """
    _text(name, "NAME")
    text = _read_payload(payload)
    bus = load_app(app)
    try:
        spec = bus.catalog.get(name)
    except KeyError as exc:
        known = list(bus.catalog.messages)
        raise UserError(f"NAME: {exc.args[0]}{did_you_mean(name, known)}") from None
    data = _parse_payload(name, spec, text)
    if producer is not None:
        _check_producer(producer, spec, bus)
    handlers = sorted(s.name for s in bus.subscribers.values() if name in s.names)
    if spec.kind == "command" and len(handlers) != 1:
        found = ", ".join(handlers) or "none"
        raise UserError(
            f"{name!r} is a command and needs exactly one handler in the app; found {len(handlers)}:"
            f" {found}"
        )
    progress = _Progress("waiting")

    async def run() -> tuple[UUID, list[Delivery], list[Exception]]:
        errors: list[Exception] = []
        async with bus:
            try:
                message_id = (await bus.publish(name, data, producer=producer)).id
            except EmitError as error:  # sync handlers failed; their rows say so
                errors = list(error.exceptions)
                message_id = error.emitted.id
            rows = await bus.settled(message_id, timeout=wait, progress=progress)
        return message_id, rows, errors

    try:
        message_id, rows, _ = _run(run, "--app")
    finally:
        progress.close()
    click.echo(f"message {message_id} {name}")
    for row in rows:
        click.echo(_delivery_line(row))
    if not rows:
        click.echo("  (no subscriber)")
    _outcome_exit(rows)


@click.command("log")
@_DB
@_APP
@click.option("--status", type=click.Choice(STATUSES), help="Messages with a delivery in this status.")
@click.option("--name", help="Messages of this name.")
@click.option("--correlation", help="The thread of execution: every message with this correlation id"
                                    " (or its last 8+ digits).")
@click.option("--message", "message_id", help="One message (its id or last 8+ digits).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="The last N messages.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def log_command(db: str | None, app: str | None, status: str | None, name: str | None,
                correlation: str | None, message_id: str | None, limit: int, fmt: str) -> None:
    """Show what the event log holds: messages (oldest first) and their deliveries.

    Only reads: a missing database, or one that holds no event log, is an error (exit 2) and
    is left as it was; `tidings db upgrade` creates the event log.
    """
    if name is not None:
        _text(name, "--name")
    for value, option in ((correlation, "--correlation"), (message_id, "--message")):
        if value is not None:
            id_shape(value, option)
    store, where = _store(db, app, read_only=True)

    async def run() -> list[LogEntry]:
        async with store:
            correlation_id = (await resolve_id(store, correlation, "--correlation", "correlation_id")
                              if correlation else None)
            only = await resolve_id(store, message_id, "--message") if message_id else None
            return await store.log(name=name, status=status, correlation_id=correlation_id,  # type: ignore[arg-type]
                                   message_id=only, limit=limit)

    entries = _run(run, where)
    if fmt == "json":
        click.echo(json.dumps([_entry_json(e) for e in entries], indent=2))
        return
    for entry in entries:
        m = entry.message
        thread = f"corr {_short(m.correlation_id)} cause {_short(m.causation_id)}"
        click.echo(f"{m.emitted_at:%Y-%m-%d %H:%M:%S} {m.id} {m.name} v{m.version}"
                   f" {thread} by {m.producer or '-'}")
        click.echo(f"  payload {m.payload}")
        for row in entry.deliveries:
            click.echo(_delivery_line(row))
    if not entries:
        click.echo("no messages", err=True)


def _entry_json(entry: LogEntry) -> dict[str, Any]:
    m = entry.message
    try:
        payload = json.loads(m.payload)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise UserError(
            f"message {m.id}: its stored payload does not read back as JSON ({reason}); use"
            " --format table, which prints it as stored"
        ) from None
    return {
        "id": str(m.id), "name": m.name, "version": m.version, "payload": payload,
        "emitted_at": m.emitted_at.isoformat(), "correlation_id": str(m.correlation_id),
        "causation_id": None if m.causation_id is None else str(m.causation_id), "producer": m.producer,
        "traceparent": m.traceparent,
        "deliveries": [
            {
                "subscriber": d.subscriber, "status": d.status, "attempts": d.attempts,
                "last_error": d.last_error,
                "next_attempt_at": None if d.next_attempt_at is None else d.next_attempt_at.isoformat(),
                "updated_at": d.updated_at.isoformat(),
            }
            for d in entry.deliveries
        ],
    }


@click.command("replay")
@click.argument("message_id", required=False)
@click.option("--failed", is_flag=True, help="Every failed or dead delivery (with the filters below).")
@click.option("--subscriber", help="Only this subscriber's deliveries.")
@click.option("--since", help="Failed since: an ISO time or a duration back from now (30m, 2h, 1d).")
@click.option("--name", help="Only messages of this name.")
@_APP
@click.option("--wait", "--timeout", "wait", type=_SECONDS, default=300.0, show_default=True,
              metavar="SECONDS", help="Seconds to wait for the replayed deliveries' outcomes.")
def replay_command(message_id: str | None, failed: bool, subscriber: str | None, since: str | None,
                   name: str | None, app: str | None, wait: float) -> None:
    """Run deliveries again through the app's handlers: those of MESSAGE_ID (its id or last 8+
    digits), or with --failed every failed/dead one. Only the selected deliveries run.

    Exit 0 all replayed deliveries succeeded, 1 some failed or went dead, 2 nothing matched or
    bad input.
    """
    if message_id is None and not failed:
        raise UserError("replay needs MESSAGE_ID (an id as `tidings log` prints it) or --failed,"
                        " e.g. `tidings replay --failed --since 1h`")
    if message_id is not None and failed:
        raise UserError("give MESSAGE_ID or --failed, not both")
    if message_id is not None and (since or name):
        raise UserError("--since and --name go with --failed; for one message pass only --subscriber")
    if message_id is not None:
        id_shape(message_id, "MESSAGE_ID")
    since_at = _parse_since(since) if since else None
    bus = load_app(app)
    if name is not None and name not in bus.catalog.messages:
        known = list(bus.catalog.messages)
        raise UserError(f"--name: {name!r} is not declared in catalog {bus.catalog.name!r}"
                        f"{did_you_mean(name, known)} (known names: {', '.join(sorted(known))})")
    if subscriber is not None and subscriber not in bus.subscribers:
        known = sorted(bus.subscribers)
        raise UserError(f"--subscriber: {subscriber!r} is not subscribed in the app"
                        f"{did_you_mean(subscriber, known)}; known: {', '.join(known) or '(none)'}")
    progress = _Progress("replaying")

    async def run() -> list[Delivery]:
        store = bus.store
        assert store is not None
        async with bus:
            if message_id is not None:
                selected = await resolve_id(store, message_id, "MESSAGE_ID")
                if not await store.log(message_id=selected, limit=1):
                    raise UserError(f"MESSAGE_ID: no stored message has the id {selected}; see"
                                    " `tidings log`")
                rows = await bus.replay(selected, subscriber, timeout=wait, progress=progress)
                if rows:
                    return rows
                # Nothing was reset: this bus (recovering due work as it starts) or another
                # one runs them now. Their outcome is what the operator asked for.
                rows = await bus.settled(selected, timeout=wait, progress=progress)
                return [r for r in rows if subscriber in (None, r.subscriber)]
            return await bus.replay_failed(subscriber, since_at, name, timeout=wait, progress=progress)

    try:
        rows = _run(run, "--app")
    finally:
        progress.close()
    if not rows:
        what = f"message {message_id}" if message_id else "failed or dead deliveries"
        only = f" of {subscriber!r}" if subscriber else ""
        raise UserError(f"nothing to replay: no {what}{only} to run again (running ones are left"
                        " to their bus); see `tidings log`")
    for row in rows:
        click.echo(f"{_short(row.message_id)}{_delivery_line(row)}")
    counts = {s: sum(r.status == s for r in rows) for s in STATUSES if any(r.status == s for r in rows)}
    click.echo(f"replayed {len(rows)}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    _outcome_exit(rows)


@click.group("db")
def db_group() -> None:
    """The event log's database."""


@db_group.command("upgrade")
@_DB
@_APP
def db_upgrade_command(db: str | None, app: str | None) -> None:
    """Create the tables, or migrate them to this version's schema (safe to run again). The
    only command that creates an event log; a running bus does it too."""
    store, where = _store(db, app, read_only=False)

    async def run() -> int:
        async with store:
            return await store.upgrade()

    click.echo(f"{store}: schema version {_run(run, where)}")


@db_group.command("stats")
@_DB
@_APP
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def db_stats_command(db: str | None, app: str | None, fmt: str) -> None:
    """Count what the event log holds: messages, deliveries by status, each outbox relay's
    backlog (messages not handed to the broker yet) and the age of the oldest open delivery,
    as the metrics of `tidings.otel` report them. Only reads, as `tidings log` does."""
    store, where = _store(db, app, read_only=True)

    async def run() -> StoreStats:
        async with store:
            return await store.stats()

    stats = _run(run, where)
    age = None if stats.oldest_pending is None else max(
        0.0, (datetime.now(UTC) - stats.oldest_pending).total_seconds())
    if fmt == "json":
        click.echo(json.dumps({
            "store": str(store), "messages": stats.messages, "deliveries": stats.deliveries,
            "outbox": stats.outbox,
            "oldest_pending": None if stats.oldest_pending is None else stats.oldest_pending.isoformat(),
            "oldest_pending_age_seconds": None if age is None else round(age, 3),
        }, indent=2))
        return
    click.echo(str(store))
    click.echo(f"{'messages':<34}{stats.messages:>10}")
    click.echo(f"{'deliveries':<34}{sum(stats.deliveries.values()):>10}")
    for status, count in stats.deliveries.items():
        click.echo(f"  {status:<32}{count:>10}")
    click.echo("outbox backlog" + ("" if stats.outbox else f"{'0':>30}"))
    for relay, count in stats.outbox.items():
        click.echo(f"  {relay:<32}{count:>10}")
    if stats.oldest_pending is None or age is None:
        click.echo(f"{'oldest open delivery':<34}{'-':>10}")
    else:
        click.echo(f"{'oldest open delivery':<34}{_duration(age):>10}  (emitted"
                   f" {stats.oldest_pending:%Y-%m-%d %H:%M:%S} UTC)")


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.1f}s"


COMMANDS: Sequence[click.Command] = (emit_command, log_command, replay_command, db_group)
"""The event-log commands, for `tidings.cli` to register."""
