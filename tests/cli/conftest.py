"""A small project on disk (pyproject.toml, an app module, broken app modules) and the CLI as a
real subprocess, on a real SQLite file or a real PostgreSQL schema."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"

# Names unlike the example catalog's: hints must come from the catalog the app has.
APP = textwrap.dedent('''
    import os

    import pydantic

    from tidings.runtime import CatalogSpec, EventBus, Message, MessageSpec, RetryPolicy
    from tidings.runtime.stores import open_store


    class Parcel(pydantic.BaseModel):
        parcelRef: str
        weight: int = 0


    class Label(pydantic.BaseModel):
        parcelRef: str
        printer: str


    CATALOG = CatalogSpec("depot", {
        "parcelShipped": MessageSpec("parcelShipped", "event", Parcel, producers=("depot",),
                                     consumers=("billing",)),
        "printLabel": MessageSpec("printLabel", "command", Label, handler="labels",
                                  producers=("depot",), consumers=("labels",),
                                  retry=RetryPolicy(max_attempts=2, initial_delay=0.01)),
        "recount": MessageSpec("recount", "command", Parcel, handler="stock"),
    })


    def make_bus():
        bus = EventBus(CATALOG, store=open_store(os.environ["APP_DB"]), poll_interval=0.05)

        def bill(message: Message[Parcel]) -> None:
            if os.environ.get("BILLING_DOWN"):
                raise ConnectionError("billing.example.com refused the connection")

        def print_label(message: Message[Label]) -> None:
            if os.environ.get("PRINTER_JAM"):
                Label.model_validate({"parcelRef": message.data.parcelRef, "printer": 7})

        bus.on("parcelShipped", bill, name="billing.bill", mode="async")
        bus.on("printLabel", print_label, name="labels.print", mode="async")
        return bus


    bus = make_bus()
''')

BROKEN_APPS = {
    "needs_dependency.py": "import no_such_dependency_xyz\n",
    "broken_syntax.py": "import os\n\ndef make_bus(:\n    pass\n",
    "raises_at_import.py": "raise RuntimeError('DEPOT_CONFIG is not set')\n",
    "factory_raises.py": "def make_bus():\n    raise ValueError('no printer configured')\n",
    "not_a_bus.py": "bus = 42\n",
}


@dataclass
class Project:
    """A project folder with `[tool.tidings]`, the app, and the event log URL its bus uses."""

    root: Path
    db: str
    kind: str
    env: dict[str, str] = field(default_factory=dict)

    def tidings(self, *args: str | bytes, cwd: Path | None = None, stdin: bytes | None = None,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m tidings ARGS` in the project folder (or `cwd`), as a user runs it."""
        result = subprocess.run(
            [sys.executable, "-m", "tidings", *args], cwd=cwd or self.root, input=stdin,
            env={**self.env, **(env or {})}, capture_output=True, timeout=120, check=False,
        )
        return subprocess.CompletedProcess(result.args, result.returncode,
                                           result.stdout.decode("utf-8", "replace"),
                                           result.stderr.decode("utf-8", "replace"))


def _drop_schema(url: str) -> None:
    import psycopg

    schema = url.rpartition("schema=")[2]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


def make_project(root: Path, kind: str) -> Iterator[Project]:
    """Write the project into `root`; yields it and drops its PostgreSQL schema afterwards."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "depot_app.py").write_text(APP)
    for name, text in BROKEN_APPS.items():
        (root / name).write_text(text)
    if kind == "postgres":
        require_service("PostgreSQL", "127.0.0.1", 5432)
        db = f"{PG_DSN}?schema=cli_{uuid.uuid4().hex[:12]}"
        (root / "pyproject.toml").write_text('[tool.tidings]\napp = "depot_app:bus"\n')
    else:
        db = str(root / "events.db")
        (root / "pyproject.toml").write_text('[tool.tidings]\napp = "depot_app:bus"\ndb = "events.db"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "APP_DB": db, "TIDINGS_APP": "", "TIDINGS_DB": ""}
    if kind == "postgres":
        env["TIDINGS_DB"] = db
    project = Project(root, db, kind, env)
    try:
        yield project
    finally:
        if kind == "postgres":
            _drop_schema(db)


@pytest.fixture(params=["sqlite", "postgres"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    """A fresh project on each store."""
    yield from make_project(tmp_path / "depot", str(request.param))
