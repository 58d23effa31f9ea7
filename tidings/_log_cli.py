"""`tidings emit | log | replay | db upgrade`: the command runner and the event log from a shell.

Settings: `--app module:attribute` (an `EventBus` with a store, or a function returning one) and
`--db URL` (`sqlite:///file.db`, a file path, or `postgresql://...?schema=NAME`) come from the
flags, then `app` / `db` in `[tool.tidings]` of pyproject.toml, then `TIDINGS_APP` /
`TIDINGS_DB`.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import tomllib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import anyio
import click
import pydantic

from tidings._errors import UserError
from tidings.runtime import EmitError, EventBus, UnknownSubscriberError
from tidings.runtime.stores import STATUSES, Delivery, LogEntry, Store, StoreError, open_store

T = TypeVar("T")


def _setting(flag: str | None, key: str) -> tuple[str | None, str]:
    """The value of setting `key` and where it came from (flag, pyproject.toml, environment)."""
    if flag:
        return flag, f"--{key}"
    for folder in (Path.cwd(), *Path.cwd().parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise UserError(f"{pyproject}: cannot read it as TOML ({exc}); fix the file") from exc
            value = tool.get("tidings", {}).get(key) if isinstance(tool, dict) else None
            if value:
                return str(value), f"{key} in [tool.tidings] of {pyproject}"
            break
    variable = f"TIDINGS_{key.upper()}"
    if os.environ.get(variable):
        return os.environ[variable], f"environment variable {variable}"
    return None, ""


def load_app(flag: str | None) -> EventBus:
    """Import the application's bus from `module:attribute` (a bus, or a function returning one)."""
    spec, source = _setting(flag, "app")
    if spec is None:
        raise UserError(
            "no application bus given: pass --app module:attribute (or set app in [tool.tidings]"
            " of pyproject.toml, or TIDINGS_APP)"
        )
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UserError(f"{source}: {spec!r} is not module:attribute, e.g. myapp.events:bus")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"{source}: cannot import {module_name!r} ({exc}); check the module path") from exc
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UserError(f"{source}: {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if callable(target) and not isinstance(target, EventBus):
        target = target()
    if not isinstance(target, EventBus):
        raise UserError(f"{source}: {spec} is a {type(target).__name__}, not an EventBus")
    if target.store is None:
        raise UserError(
            f"{source}: the bus {spec} has no store; create it with EventBus(catalog, store=...)"
        )
    return target


def _store(db: str | None, app: str | None) -> Store:
    url, source = _setting(db, "db")
    if url is not None:
        try:
            return open_store(url)
        except StoreError as exc:
            raise UserError(f"{source}: {exc}") from exc
    if app is not None or _setting(None, "app")[0] is not None:
        store = load_app(app).store
        assert store is not None
        return store
    raise UserError("no event log given: pass --db URL or --app module:bus (or set db/app in"
                    " [tool.tidings], or TIDINGS_DB/TIDINGS_APP)")


def _run(fn: Callable[[], Awaitable[T]]) -> T:
    try:
        return anyio.run(fn)
    except StoreError as exc:
        raise UserError(str(exc)) from exc


def _short(value: UUID | None) -> str:
    # The last 12 digits: a UUIDv7 begins with its timestamp, the same for a whole run.
    return "-" if value is None else str(value)[-12:]


def _error_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _delivery_line(row: Delivery) -> str:
    line = f"  {row.subscriber:<32} {row.status:<9} attempts={row.attempts}"
    if row.status == "failed" and row.next_attempt_at is not None:
        line += f" retry at {row.next_attempt_at:%Y-%m-%d %H:%M:%S}"
    if row.status in ("failed", "dead") and row.last_error:
        line += f"  {_error_line(row.last_error)}"
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


def _uuid(value: str, option: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise UserError(f"{option}: {value!r} is not a message id (a UUID)") from None


_APP = click.option("--app", "app", metavar="MODULE:BUS", help="The application's EventBus.")
_DB = click.option("--db", "db", metavar="URL", help="The event log: sqlite:///file.db or postgresql://...")


@click.command("emit")
@click.argument("name")
@click.argument("payload")
@_APP
@click.option("--producer", help="Stored as the message's producer.")
@click.option("--wait", "wait", type=float, default=10.0, show_default=True,
              help="Seconds to wait for every delivery to succeed or go dead (retries included);"
                   " what is still failed then is retried by the next bus that starts.")
def emit_command(name: str, payload: str, app: str | None, producer: str | None, wait: float) -> None:
    """Validate PAYLOAD (JSON) against the catalog, store and dispatch it through the app's bus,
    and print the message id and every delivery's outcome (exit 1 if one failed).

    A command must have exactly one handler subscribed in the app.
    """
    bus = load_app(app)
    try:
        spec = bus.catalog.get(name)
    except KeyError as exc:
        raise UserError(f"NAME: {exc.args[0]}") from None
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"PAYLOAD: not valid JSON ({exc}); quote it, e.g. '{{\"shipmentId\": \"...\"}}'"
        ) from None
    try:
        spec.model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise UserError(f"PAYLOAD does not match {name!r}:\n{exc}") from None
    handlers = sorted(s.name for s in bus.subscribers.values() if name in s.names)
    if spec.kind == "command" and len(handlers) != 1:
        found = ", ".join(handlers) or "none"
        raise UserError(
            f"{name!r} is a command and needs exactly one handler in the app; found {len(handlers)}:"
            f" {found}"
        )

    async def run() -> tuple[UUID, list[Delivery], list[Exception]]:
        errors: list[Exception] = []
        async with bus:
            try:
                message_id = (await bus.publish(name, data, producer=producer)).id
            except EmitError as error:  # sync handlers failed; their rows say so
                errors = list(error.exceptions)
                message_id = error.emitted.id
            rows = await bus.settled(message_id, timeout=wait)
        return message_id, rows, errors

    message_id, rows, _ = _run(run)
    click.echo(f"message {message_id} {name}")
    for row in rows:
        click.echo(_delivery_line(row))
    if not rows:
        click.echo("  (no subscriber)")
    if any(row.status != "succeeded" for row in rows):
        sys.exit(1)


@click.command("log")
@_DB
@_APP
@click.option("--status", type=click.Choice(STATUSES), help="Messages with a delivery in this status.")
@click.option("--name", help="Messages of this name.")
@click.option("--correlation", help="The thread of execution: every message with this correlation id.")
@click.option("--message", "message_id", help="One message.")
@click.option("--limit", type=int, default=50, show_default=True, help="The last N messages.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def log_command(db: str | None, app: str | None, status: str | None, name: str | None,
                correlation: str | None, message_id: str | None, limit: int, fmt: str) -> None:
    """Show what the event log holds: messages (oldest first) and their deliveries."""
    store = _store(db, app)
    correlation_id = _uuid(correlation, "--correlation") if correlation else None
    only = _uuid(message_id, "--message") if message_id else None

    async def run() -> list[LogEntry]:
        async with store:
            return await store.log(name=name, status=status, correlation_id=correlation_id,  # type: ignore[arg-type]
                                   message_id=only, limit=limit)

    entries = _run(run)
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
    return {
        "id": str(m.id), "name": m.name, "version": m.version, "payload": json.loads(m.payload),
        "emitted_at": m.emitted_at.isoformat(), "correlation_id": str(m.correlation_id),
        "causation_id": None if m.causation_id is None else str(m.causation_id), "producer": m.producer,
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
@click.option("--timeout", type=float, default=300.0, show_default=True,
              help="Seconds to wait for the replayed deliveries.")
def replay_command(message_id: str | None, failed: bool, subscriber: str | None, since: str | None,
                   name: str | None, app: str | None, timeout: float) -> None:
    """Run deliveries again through the app's handlers: those of MESSAGE_ID, or with --failed
    every failed/dead one. Only the selected deliveries run; exit 1 if one does not succeed."""
    if (message_id is None) == (not failed):
        raise UserError("give either MESSAGE_ID or --failed (not both)")
    if message_id is not None and (since or name):
        raise UserError("--since and --name go with --failed; for one message pass only --subscriber")
    selected = _uuid(message_id, "MESSAGE_ID") if message_id else None
    since_at = _parse_since(since) if since else None
    bus = load_app(app)
    if subscriber is not None and subscriber not in bus.subscribers:
        known = ", ".join(sorted(bus.subscribers)) or "(none)"
        raise UserError(f"--subscriber: {subscriber!r} is not subscribed in the app; known: {known}")

    bar: Any = None
    shown = 0

    def progress(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = click.progressbar(length=total, label="replaying", file=sys.stderr)
            bar.__enter__()
        bar.update(done - shown)
        shown = done

    async def run() -> list[Delivery] | UnknownSubscriberError:
        async with bus:
            try:
                if selected is not None:
                    return await bus.replay(selected, subscriber, timeout=timeout, progress=progress)
                return await bus.replay_failed(subscriber, since_at, name, timeout=timeout,
                                               progress=progress)
            except UnknownSubscriberError as exc:  # returned, not raised through the task group
                return exc

    try:
        rows = _run(run)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if isinstance(rows, UnknownSubscriberError):
        raise UserError(str(rows))
    if not rows:
        click.echo("nothing to replay")
        return
    for row in rows:
        click.echo(f"{_short(row.message_id)}{_delivery_line(row)}")
    counts = {s: sum(r.status == s for r in rows) for s in STATUSES if any(r.status == s for r in rows)}
    click.echo(f"replayed {len(rows)}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    if any(row.status != "succeeded" for row in rows):
        sys.exit(1)


@click.group("db")
def db_group() -> None:
    """The event log's database."""


@db_group.command("upgrade")
@_DB
@_APP
def db_upgrade_command(db: str | None, app: str | None) -> None:
    """Create the tables, or migrate them to this version's schema (safe to run again)."""
    store = _store(db, app)

    async def run() -> int:
        async with store:
            return await store.upgrade()

    click.echo(f"{store}: schema version {_run(run)}")


COMMANDS: Sequence[click.Command] = (emit_command, log_command, replay_command, db_group)
"""The event-log commands, for `tidings.cli` to register."""
