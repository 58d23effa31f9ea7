"""What the fault-injection tests share: the stores on real backends and the faults themselves."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from tests.store.support import PG_DSN
from tidings.runtime.stores import PostgresStore, SQLiteStore

SqlStore = SQLiteStore | PostgresStore


@dataclass
class SqlBackend:
    """A real SQL store kind: `new(**options)` opens a store on the same data, `admin(sql, params)`
    runs SQL in a separate connection (as an admin tool does), `hold_lock()` starts another
    process that holds the write lock until the returned function is called."""

    kind: str
    new: Callable[..., SqlStore]
    admin: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]]
    hold_lock: Callable[[], Callable[[], None]]


def sqlite_backend(path: Path) -> SqlBackend:
    def admin(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        try:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def hold_lock() -> Callable[[], None]:
        # Another process takes SQLite's write lock (BEGIN IMMEDIATE) and keeps it until told.
        script = (
            "import sqlite3, sys\n"
            f"conn = sqlite3.connect({str(path)!r}, isolation_level=None, timeout=10)\n"
            "conn.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "conn.execute('ROLLBACK')\n"
        )
        return _held_by_process(script)

    def new(**options: Any) -> SqlStore:
        retry_for = options.pop("retry_for", None)
        store = SQLiteStore(path, **options)
        if retry_for is not None:
            store.retry_for = retry_for
        return store

    return SqlBackend("sqlite", new, admin, hold_lock)


def postgres_backend(schema: str) -> SqlBackend:
    import psycopg

    def connect() -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(PG_DSN, autocommit=True, options=f"-c search_path={schema}")

    def admin(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with connect() as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def hold_lock() -> Callable[[], None]:
        script = (
            "import sys, psycopg\n"
            f"conn = psycopg.connect({PG_DSN!r}, options='-c search_path={schema}')\n"
            "conn.execute('LOCK TABLE messages, deliveries IN EXCLUSIVE MODE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "conn.rollback()\n"
        )
        return _held_by_process(script)

    def new(**options: Any) -> SqlStore:
        retry_for = options.pop("retry_for", None)
        busy = options.pop("busy_timeout", None)
        if busy is not None:
            options["lock_timeout"] = busy
        store = PostgresStore(PG_DSN, schema=schema, **options)
        if retry_for is not None:
            store.retry_for = retry_for
        return store

    return SqlBackend("postgres", new, admin, hold_lock)


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


def new_schema() -> str:
    return f"faults_{uuid.uuid4().hex[:12]}"


def _held_by_process(script: str) -> Callable[[], None]:
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline()
    if line.strip() != "locked":
        proc.kill()
        raise AssertionError(f"the lock holder did not start: {line!r}")

    def release() -> None:
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.write("\n")
            proc.stdin.flush()
            proc.wait(10)

    return release


@contextlib.contextmanager
def small_filesystem(path: Path, size: str = "2m") -> Iterator[Path]:
    """A real, tiny tmpfs mounted at `path` (unmounted afterwards): the place to fill a disk."""
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"cannot mount a tmpfs at {path} to fill a disk ({result.stderr.strip()}): this test"
            " needs root (or CAP_SYS_ADMIN); run it as root"
        )
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write a file in `directory` until the file system is full; returns it (delete it to free)."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        chunk = b"\0" * 4096
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, chunk)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0")
    finally:
        os.close(fd)
    return filler


async def eventually(check: Callable[[], Any], timeout: float = 20.0) -> None:
    """Wait until `check()` (awaited) is truthy: a bound on waiting, not a timing assertion."""
    with anyio.fail_after(timeout):
        while not await check():
            await anyio.sleep(0.05)


@contextlib.contextmanager
def open_backend(kind: str, tmp_path: Path) -> Iterator[SqlBackend]:
    """The backend `kind` ("sqlite" or "postgres") on fresh data, removed afterwards."""
    if kind == "sqlite":
        yield sqlite_backend(tmp_path / "events.db")
        return
    from tests.conftest import require_service

    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = new_schema()
    try:
        yield postgres_backend(schema)
    finally:
        drop_schema(schema)
