"""Bad input to the CLI, one case a row, each in a real subprocess on a real SQLite file and a real
PostgreSQL schema: exactly one line on standard error naming the place, the documented exit
code (2), and never a traceback."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.cli.conftest import PG_DSN, Project, make_project
from tidings.runtime.stores import open_store

AMBIGUOUS = ("01a233e5-0000-7000-8000-0000deadbeef", "01a233e5-0000-7000-8000-1111deadbeef")
INSERT = ("INSERT INTO messages (id, name, version, payload, emitted_at, correlation_id)"
          " VALUES (?, 'parcelShipped', 1, ?, ?, ?)")


def admin(project: Project, sql: str, *params: Any) -> None:
    """Run SQL on the project's event log as an admin tool (or a hand edit) would."""
    if project.kind == "sqlite":
        with sqlite3.connect(project.db) as conn:
            conn.execute(sql, params)
        return
    import psycopg

    schema = project.db.rpartition("schema=")[2]
    with psycopg.connect(PG_DSN, autocommit=True, options=f"-c search_path={schema}") as conn:
        conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]


def upgraded(project: Project) -> None:
    async def run() -> None:
        async with open_store(project.db) as store:
            await store.upgrade()

    anyio.run(run)


def seeded(project: Project) -> None:
    """Two messages whose ids share their last 8 digits."""
    upgraded(project)
    for message_id in AMBIGUOUS:
        admin(project, INSERT, message_id, '{"parcelRef": "P-1"}', "2026-11-01 10:00:00", message_id)


def hand_edited(column: str, value: str) -> Callable[[Project], None]:
    def edit(project: Project) -> None:
        seeded(project)
        admin(project, f"UPDATE messages SET {column} = ? WHERE id = ?", value, AMBIGUOUS[0])

    return edit


def non_utf8_payload(project: Project) -> None:
    seeded(project)
    admin(project, "UPDATE messages SET payload = CAST(? AS TEXT) WHERE id = ?",
          b'{"parcelRef": "\xff\xfe"}', AMBIGUOUS[0])


def deep_payload(project: Project) -> None:
    seeded(project)
    admin(project, "UPDATE messages SET payload = ? WHERE id = ?",
          '{"parcelRef": ' + "[" * 100_000 + "]" * 100_000 + "}", AMBIGUOUS[0])


def empty_log(project: Project) -> None:
    """A database (file or schema) that exists, with no tables."""
    if project.kind == "sqlite":
        Path(project.db).touch()
    else:
        schema = project.db.rpartition("schema=")[2]
        admin(project, f'CREATE SCHEMA "{schema}"')


def foreign(table: str) -> Callable[[Project], None]:
    def make(project: Project) -> None:
        with sqlite3.connect(project.root / "foreign.db") as conn:
            conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, body TEXT)")

    return make


def corrupt(project: Project) -> None:
    upgraded(project)
    path = project.root / "corrupt.db"
    data = bytearray(Path(project.db).read_bytes())
    data[100:4096] = b"\x07" * (4096 - 100)  # the first page's b-tree: garbage
    path.write_bytes(bytes(data))


def pyproject(text: str) -> Callable[[Project], None]:
    def write(project: Project) -> None:
        (project.root / "pyproject.toml").write_text(text)

    return write


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str | bytes, ...]
    expected: str
    setup: Callable[[Project], None] | None = None
    only: str | None = None  # "sqlite": a hand edit PostgreSQL's typed columns cannot hold
    stdin: bytes | None = None


P = '{"parcelRef": "P-1"}'
CASES = [
    Case("emit-unknown-name", ("emit", "parcelShiped", P), "did you mean 'parcelShipped'?"),
    Case("emit-invalid-json", ("emit", "parcelShipped", "{nope"),
         """not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1));"""
         """ pass a JSON object, e.g. '{"parcelRef": "..."}'"""),
    Case("emit-wrong-type", ("emit", "parcelShipped", '{"parcelRef": 5}'),
         "PAYLOAD does not match 'parcelShipped': parcelRef: Input should be a valid string"),
    Case("emit-two-errors", ("emit", "printLabel", "{}"),
         "parcelRef: Field required; printer: Field required"),
    Case("emit-nested-1000-deep", ("emit", "parcelShipped", "[" * 1000 + "]" * 1000), "nested too deeply"),
    Case("emit-missing-payload-file", ("emit", "parcelShipped", "@nope.json"),
         "PAYLOAD @nope.json: cannot read it (No such file or directory)"),
    Case("emit-stdin-not-utf8", ("emit", "parcelShipped", "-"), "not UTF-8 (byte 0xff at offset 15)",
         stdin=b'{"parcelRef": "\xff"}'),
    Case("emit-argument-not-utf8", ("emit", "parcelShipped", b'{"parcelRef": "\xff"}'),
         "PAYLOAD: not valid UTF-8 text"),
    Case("emit-unknown-producer", ("emit", "parcelShipped", P, "--producer", "depto"),
         "--producer: 'depto' does not produce 'parcelShipped'; did you mean 'depot'?"),
    Case("emit-producer-not-utf8", ("emit", "parcelShipped", P, "--producer", b"d\xffpot"),
         "--producer: not valid UTF-8 text"),
    Case("emit-negative-wait", ("emit", "parcelShipped", P, "--wait", "-1"),
         "Invalid value for '--wait': -1.0 is not in the range x>=0"),
    Case("emit-command-without-handler", ("emit", "recount", P),
         "'recount' is a command and needs exactly one handler in the app; found 0"),
    Case("app-missing-module", ("emit", "parcelShipped", P, "--app", "no_such_app:bus"),
         "cannot import 'no_such_app' (no module named 'no_such_app'); check the module path"),
    Case("app-missing-dependency", ("emit", "parcelShipped", P, "--app", "needs_dependency:bus"),
         "its dependency 'no_such_dependency_xyz' is not installed"),
    Case("app-syntax-error", ("emit", "parcelShipped", P, "--app", "broken_syntax:bus"),
         "broken_syntax.py:3: syntax error in 'broken_syntax'"),
    Case("app-raises-at-import", ("emit", "parcelShipped", P, "--app", "raises_at_import:bus"),
         "importing 'raises_at_import' raised RuntimeError: DEPOT_CONFIG is not set at"),
    Case("app-factory-raises", ("emit", "parcelShipped", P, "--app", "factory_raises:make_bus"),
         "factory_raises:make_bus() raised ValueError: no printer configured"),
    Case("app-not-a-bus", ("emit", "parcelShipped", P, "--app", "not_a_bus:bus"),
         "is a int, not an EventBus"),
    Case("log-negative-limit", ("log", "--limit", "-1"),
         "Invalid value for '--limit': -1 is not in the range"),
    Case("log-missing-file", ("log", "--db", "nothere.db"), "no such file; check the path, or create the"
         " event log with `tidings db upgrade`", only="sqlite"),
    Case("log-uninitialised", ("log",), "holds no event log yet; create or migrate it with"
         " `tidings db upgrade`", setup=empty_log),
    Case("log-foreign-users", ("log", "--db", "foreign.db"), "is not a tidings event log (it holds users)",
         setup=foreign("users"), only="sqlite"),
    Case("log-foreign-messages", ("log", "--db", "foreign.db"),
         "is not a tidings event log (it holds messages)", setup=foreign("messages"), only="sqlite"),
    Case("upgrade-foreign-messages", ("db", "upgrade", "--db", "foreign.db"),
         "is not a tidings event log: it has its own messages table", setup=foreign("messages"),
         only="sqlite"),
    Case("log-not-a-database", ("log", "--db", "pyproject.toml"), "file is not a database", only="sqlite"),
    Case("log-corrupt", ("log", "--db", "corrupt.db"), "corrupt.db", setup=corrupt, only="sqlite"),
    Case("log-bad-isoformat", ("log",), "does not read back (Invalid isoformat string: 'yesterday')",
         setup=hand_edited("emitted_at", "yesterday"), only="sqlite"),
    Case("log-bad-uuid", ("log",), "does not read back (badly formed hexadecimal UUID string)",
         setup=hand_edited("correlation_id", "not-a-uuid"), only="sqlite"),
    Case("log-non-utf8-payload", ("log",), "cannot read it (Could not decode to UTF-8 column 'payload'",
         setup=non_utf8_payload, only="sqlite"),
    Case("log-json-nested-deep", ("log", "--format", "json"), "nested too deeply", setup=deep_payload,
         only="sqlite"),
    Case("log-schema-injection", ("log", "--db", f"{PG_DSN}?schema=a;drop"),
         "schema must be a plain SQL identifier, got 'a;drop'"),
    Case("log-unknown-url", ("log", "--db", "mysql://x"), "unknown store URL 'mysql://x'"),
    Case("log-correlation-not-an-id", ("log", "--correlation", "42"), "'42' is not a message id"),
    Case("log-correlation-no-match", ("log", "--correlation", "abcdef0123"),
         "no stored correlation id ends with 'abcdef0123'", setup=seeded),
    Case("log-message-ambiguous", ("log", "--message", "deadbeef"), "'deadbeef' is ambiguous, it ends"
         f" {AMBIGUOUS[0]}, {AMBIGUOUS[1]}; give more digits", setup=seeded),
    Case("replay-no-arguments", ("replay",), "replay needs MESSAGE_ID"),
    Case("replay-both", ("replay", AMBIGUOUS[0], "--failed"), "give MESSAGE_ID or --failed, not both"),
    Case("replay-unknown-id", ("replay", "01a233e5-0000-7000-8000-00000000abcd"),
         "MESSAGE_ID: no stored message has the id", setup=seeded),
    Case("replay-unknown-suffix", ("replay", "0123abcd0123"),
         "MESSAGE_ID: no stored message id ends with '0123abcd0123'", setup=seeded),
    Case("replay-name-typo", ("replay", "--failed", "--name", "parcelShiped"),
         "--name: 'parcelShiped' is not declared in catalog 'depot'; did you mean 'parcelShipped'?"),
    Case("replay-unknown-subscriber", ("replay", "--failed", "--subscriber", "billing.bil"),
         "did you mean 'billing.bill'?"),
    Case("replay-nothing-failed", ("replay", "--failed"), "nothing to replay: no failed or dead deliveries",
         setup=seeded),
    Case("replay-negative-wait", ("replay", "--failed", "--wait", "-1"), "Invalid value for '--wait'"),
    Case("replay-bad-since", ("replay", "--failed", "--since", "yesterday"), "--since: 'yesterday'"),
    Case("check-missing-ignore-file", ("check", "--ignore-file", "nope.yaml"),
         "--ignore-file: the ignore file 'nope.yaml' does not exist"),
    Case("pyproject-unknown-section", ("log",), "unknown section [tool.tidings.chek]; did you mean 'check'?",
         setup=pyproject("[tool.tidings.chek]\ncode = ['.']\n")),
    Case("pyproject-unknown-key", ("log",), "unknown key 'dbb' in [tool.tidings]; did you mean 'db'?",
         setup=pyproject('[tool.tidings]\ndbb = "events.db"\n')),
    Case("pyproject-wrong-type", ("generate", "--check"), "schemas in [tool.tidings] must be a path string",
         setup=pyproject("[tool.tidings]\nschemas = 5\n")),
    Case("pyproject-bad-choice", ("check",), "fail-on in [tool.tidings.check] of",
         setup=pyproject('[tool.tidings.check]\nfail-on = "loud"\n')),
]


RUNS = [(case, kind) for case in CASES for kind in ("sqlite", "postgres") if case.only in (None, kind)]


@pytest.fixture
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    yield from make_project(tmp_path / "depot", request.node.callspec.params["kind"])


def test_there_are_at_least_30_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize(("case", "kind"), RUNS, ids=[f"{case.id}-{kind}" for case, kind in RUNS])
def test_bad_input_is_one_line_exit_2_no_traceback(case: Case, kind: str, fresh: Project) -> None:
    if case.setup is not None:
        case.setup(fresh)
    result = fresh.tidings(*case.args, stdin=case.stdin)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert case.expected in lines[0]
