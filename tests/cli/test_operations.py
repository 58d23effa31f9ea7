"""Operating a project from the shell, as real subprocesses on real SQLite and PostgreSQL: `log`
only reads, short ids, waiting for outcomes, summaries that name the cause, the project root."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import PG_DSN, ROOT, Project, make_project

SHIPPED = '{"parcelRef": "P-1"}'


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_log_on_sqlite_creates_and_changes_nothing(tmp_path: Path) -> None:
    project = next(make_project(tmp_path / "depot", "sqlite"))
    before = sorted(p.name for p in project.root.iterdir())
    missing = project.tidings("log", "--db", "nothere.db")
    assert missing.returncode == 2 and "tidings db upgrade" in missing.stderr
    readme = project.root / "README.md"
    readme.write_text("# depot\n")
    assert project.tidings("log", "--db", "README.md").returncode == 2
    assert readme.read_text() == "# depot\n"
    for table in ("users", "messages"):
        path = project.root / f"{table}.db"
        with sqlite3.connect(path) as conn:
            conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY)")
            conn.execute(f"INSERT INTO {table} VALUES (1)")
        digest = _digest(path)
        result = project.tidings("log", "--db", path.name)
        assert result.returncode == 2 and "not a tidings event log" in result.stderr
        assert _digest(path) == digest
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == [table]
    after = sorted(p.name for p in project.root.iterdir())
    assert after == sorted([*before, "README.md", "users.db", "messages.db"])


def test_log_on_postgresql_creates_no_schema(tmp_path: Path) -> None:
    gen = make_project(tmp_path / "depot", "postgres")
    project = next(gen)
    import psycopg

    schema = project.db.rpartition("schema=")[2]
    result = project.tidings("log")
    assert result.returncode == 2 and "holds no event log yet" in result.stderr
    assert "tidings db upgrade" in result.stderr
    with psycopg.connect(PG_DSN) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                            (schema,)).fetchone() == (0,)
    assert project.tidings("db", "upgrade").returncode == 0
    assert project.tidings("log").returncode == 0
    gen.close()


def test_short_ids_as_printed_work_for_log_and_replay(project: Project) -> None:
    down = {"BILLING_DOWN": "1"}
    emitted = project.tidings("emit", "parcelShipped", SHIPPED, "--wait", "0.3", env=down)
    assert emitted.returncode == 1, emitted.stderr
    message_id = emitted.stdout.split()[1]
    assert "ConnectionError: billing.example.com refused the connection" in emitted.stdout
    short = message_id[-12:]
    log = project.tidings("log", "--correlation", short)
    assert log.returncode == 0 and message_id in log.stdout, log.stderr
    assert f"corr {short}" in log.stdout
    assert project.tidings("log", "--message", message_id[-8:]).returncode == 0
    replay = project.tidings("replay", short, "--wait", "30")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "replayed 1: 1 succeeded" in replay.stdout
    assert "replaying" in replay.stderr  # the progress bar


def test_wait_exit_codes_and_summaries_that_name_the_cause(project: Project) -> None:
    jam = {"PRINTER_JAM": "1"}
    label = '{"parcelRef": "P-1", "printer": "front"}'
    dead = project.tidings("emit", "printLabel", label, "--wait", "30", env=jam)
    assert dead.returncode == 1, dead.stderr
    assert "labels.print" in dead.stdout and "dead" in dead.stdout
    assert "ValidationError: printer: Input should be a valid string" in dead.stdout
    assert "errors.pydantic.dev" not in dead.stdout
    still = project.tidings("replay", "--failed", "--wait", "30", env=jam)
    assert still.returncode == 1 and "replayed 1: 1 dead" in still.stdout
    fixed = project.tidings("replay", "--failed", "--name", "printLabel", "--wait", "30")
    assert fixed.returncode == 0 and "replayed 1: 1 succeeded" in fixed.stdout
    again = project.tidings("replay", "--failed")
    assert again.returncode == 2 and "nothing to replay" in again.stderr
    ok = project.tidings("emit", "parcelShipped", SHIPPED, "--wait", "30", "--producer", "depot")
    assert ok.returncode == 0 and "succeeded" in ok.stdout


def test_emit_reads_the_payload_from_stdin_or_a_file(project: Project) -> None:
    from_stdin = project.tidings("emit", "parcelShipped", "-", stdin=SHIPPED.encode())
    assert from_stdin.returncode == 0, from_stdin.stderr
    big = project.root / "big.json"
    big.write_text('{"parcelRef": "' + "x" * 200_000 + '"}')  # more than an argument can hold
    from_file = project.tidings("emit", "parcelShipped", f"@{big.name}")
    assert from_file.returncode == 0, from_file.stderr
    log = project.tidings("log", "--format", "json")
    assert log.returncode == 0 and log.stdout.count('"parcelShipped"') == 2


def test_commands_behave_the_same_from_a_subfolder(tmp_path: Path) -> None:
    project = next(make_project(tmp_path / "depot", "sqlite"))
    shutil.copytree(ROOT / "schemas", project.root / "schemas")
    (project.root / "pyproject.toml").write_text(
        '[tool.tidings]\napp = "depot_app:bus"\ndb = "events.db"\nschemas = "schemas"\n'
        '[tool.tidings.generate]\nout = "generated"\n'
    )
    deep = project.root / "src" / "deep"
    deep.mkdir(parents=True)
    assert project.tidings("generate").returncode == 0
    check = project.tidings("generate", "--check", cwd=deep)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "up to date" in check.stdout
    emitted = project.tidings("emit", "parcelShipped", SHIPPED, cwd=deep)  # the app from the root
    assert emitted.returncode == 0, emitted.stderr
    log = project.tidings("log", cwd=deep)
    assert log.returncode == 0 and emitted.stdout.split()[1] in log.stdout
    assert sorted(p.name for p in deep.iterdir()) == []  # no new database down here


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_files_written_by_the_cli_get_the_umask_mode(tmp_path: Path) -> None:
    project = next(make_project(tmp_path / "depot", "sqlite"))
    out = project.root / "catalog.schema.json"
    result = project.tidings("schema", "-o", out.name)
    assert result.returncode == 0, result.stderr
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
