"""docs/guides/operations.md, every `$ tidings ...` line run in a project shaped as the page
describes (its `[tool.tidings]` block as pyproject.toml, an `app:bus` with the page's messages, a
`shop` module whose dependency is missing), and what the page prints compared with what runs
print (ids, times and the reader's own paths aside). Real subprocesses, a real SQLite file and a
real PostgreSQL schema."""

from __future__ import annotations

import re
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.docs._pages import DOCS, blocks, shell_env

PAGE = DOCS / "guides" / "operations.md"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"

APP = textwrap.dedent('''
    import os

    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, MessageSpec, RetryPolicy
    from tidings.runtime.stores import open_store


    class Order(pydantic.BaseModel):
        orderId: str


    class Label(pydantic.BaseModel):
        parcelRef: str
        printer: str


    CATALOG = CatalogSpec("depot", {
        "orderPlaced": MessageSpec("orderPlaced", "event", Order, producers=("depot",)),
        "printLabel": MessageSpec("printLabel", "command", Label, handler="labels",
                                  producers=("depot",), consumers=("labels",),
                                  retry=RetryPolicy(max_attempts=2, initial_delay=0.01)),
    })
    bus = EventBus(CATALOG, store=open_store("events.db"), poll_interval=0.05)


    def print_label(message):
        if os.environ.get("PRINTER_JAM"):  # the printer answers with a number
            Label.model_validate({"parcelRef": message.data.parcelRef, "printer": 7})


    bus.on("printLabel", print_label, name="labels.print", mode="async")
''')


def _normal(text: str) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "ID", text)
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "TIME", text)
    text = re.sub(r"\s+\[#+\]\s+100%$", "", text)  # the bar is drawn on a terminal only
    return re.sub(r"\S*/pyproject\.toml", "PYPROJECT", text)


def _sessions() -> list[list[tuple[str, list[str]]]]:
    """Every `console` block of the page as (command, the lines it shows) pairs."""
    found = []
    for block in blocks(PAGE):
        if block.lang != "console":
            continue
        session: list[tuple[str, list[str]]] = []
        for line in block.text.splitlines():
            if line.startswith("$ "):
                session.append((line[2:].split("  #")[0].strip(), []))
            elif session:
                session[-1][1].append(line)
        found.append(session)
    return found


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    settings = next(b.text for b in blocks(PAGE) if b.lang == "toml")
    (tmp_path / "pyproject.toml").write_text(settings)
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "shop.py").write_text("import stripe\n")
    (tmp_path / "label.json").write_text('{"parcelRef": "P-1", "printer": "front"}')
    schema = f"docs_{uuid.uuid4().hex[:12]}"
    yield tmp_path, schema
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


def _run(line: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = f"produce-label() {{ cat label.json; }}\n{line}"  # the reader's own program
    ran = subprocess.run(["bash", "-c", script], cwd=cwd, env={**shell_env(), **env},
                         capture_output=True, text=True, timeout=300, check=False)
    assert "Traceback" not in ran.stderr, f"{line}\n{ran.stderr}"
    return ran


def _shown(ran: subprocess.CompletedProcess[str], expected: list[str]) -> None:
    got = [_normal(line) for line in (ran.stdout + ran.stderr).splitlines()]
    for line in expected:
        wanted = _normal(line)
        if wanted.endswith("(known: ...)"):  # the page elides the list
            assert any(g.startswith(wanted.removesuffix("...)")) for g in got), (wanted, got)
        else:
            assert wanted in got, f"{wanted!r} not printed; got:\n" + "\n".join(got)


def test_every_command_of_the_operations_guide_runs_as_shown(project: tuple[Path, str]) -> None:
    root, schema = project
    typo, errors, upgrade, log, emit, replay = _sessions()

    pyproject = root / "pyproject.toml"
    good = pyproject.read_text()
    pyproject.write_text(good.replace('db = "events.db"', 'dbb = "events.db"'))
    [(command, shown)] = typo
    ran = _run(command, root)
    assert ran.returncode == 2
    _shown(ran, shown)
    pyproject.write_text(good)

    for command, shown in upgrade:
        command = command.replace("postgresql://app@db.internal/shop?schema=events",
                                  f"{PG_DSN}?schema={schema}")
        ran = _run(command, root)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        _shown(ran, shown)

    for command, shown in errors:
        ran = _run(command, root)
        assert ran.returncode == 2, f"{command}\n{ran.stdout}{ran.stderr}"
        assert len(ran.stderr.splitlines()) == 1
        _shown(ran, shown)

    jammed = _run('tidings emit printLabel \'{"parcelRef": "P-1", "printer": "front"}\' '
                  "--producer depot", root, PRINTER_JAM="1")
    assert jammed.returncode == 1, jammed.stdout + jammed.stderr
    short = jammed.stdout.split()[1][-12:]
    [(command, shown)] = log
    ran = _run(command, root)
    assert ran.returncode == 0
    _shown(ran, shown)

    for command, shown in emit:
        ran = _run(command, root)
        assert ran.returncode == 0, f"{command}\n{ran.stdout}{ran.stderr}"
        assert "labels.print                     succeeded attempts=1" in ran.stdout
        _shown(ran, shown)

    *jams, (last, shown) = replay
    for command, _ in jams:  # still jammed: each replay goes dead again
        ran = _run(command.replace("2544dbe38e5b", short), root, PRINTER_JAM="1")
        assert ran.returncode == 1, f"{command}\n{ran.stdout}{ran.stderr}"
        assert "replayed 1: 1 dead" in ran.stdout
    ran = _run(last, root)  # the printer fixed
    assert ran.returncode == 0, ran.stdout + ran.stderr
    _shown(ran, shown)
