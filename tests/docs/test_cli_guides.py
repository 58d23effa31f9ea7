"""The shell examples of the event-log, CI and PostgreSQL guides, run as a user runs them (real
subprocesses, a real git repository, a real PostgreSQL schema), each line from the page itself.
Placeholders the reader fills in (an id, a server address) are the only substitutions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.checker._repo import Repo, base
from tests.conftest import require_service
from tests.docs._pages import DOCS, blocks, shell_env

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _sh_lines(page: Path) -> list[str]:
    """The commands of every `sh` block of `page` that run tidings (comments dropped)."""
    return [line.split("  #")[0].strip() for block in blocks(page) if block.lang == "sh"
            for line in block.text.splitlines() if line.startswith("tidings ")]


def _run(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run(["bash", "-c", line], cwd=cwd, env=shell_env(), capture_output=True,
                         text=True, timeout=300, check=False)
    assert "Traceback" not in ran.stderr, f"{line}\n{ran.stderr}"
    return ran


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project from `tidings init shop`, generated, whose app ran once (an order, its charge
    and receipt in the SQLite log)."""
    where = tmp_path_factory.mktemp("guides")
    for line, cwd in (("tidings init shop", where), ("tidings generate", where / "shop"),
                      (f"{sys.executable} app.py", where / "shop")):
        ran = _run(line, cwd)
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
    return where / "shop"


def test_the_event_log_guide_reads_the_log_as_shown(shop: Path) -> None:
    page = DOCS / "guides" / "event-log.md"
    lines = _sh_lines(page)
    assert len(lines) == 4, lines
    first = _run("tidings log", shop)
    correlation = re.search(r"orderPlaced v1 corr (\w+)", first.stdout)
    assert correlation is not None, first.stdout
    outputs = {}
    for line in lines:
        ran = _run(line.replace(" ID", f" {correlation.group(1)}"), shop)
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
        outputs[line] = ran.stdout
    assert "billing.charge" in outputs["tidings log"] and "succeeded" in outputs["tidings log"]
    assert "orderPlaced" not in outputs["tidings log --status dead"]  # nothing went dead
    thread = outputs["tidings log --correlation ID"]
    assert "orderPlaced v1" in thread and "sendReceipt v1" in thread
    scripted = json.loads(outputs["tidings log --name orderPlaced --format json"])
    assert [entry["name"] for entry in scripted] == ["orderPlaced"]


def test_the_ci_guide_commands_workflow_and_settings_run(tmp_path: Path) -> None:
    page = DOCS / "guides" / "ci.md"
    repo = Repo(tmp_path / "repo")
    (repo.root / "app").mkdir()
    (repo.root / "app" / "shop.py").write_text(
        "async def place(bus):\n    await bus.emit('orderPlaced', {})\n")
    repo.commit(base(), "v1")
    repo.git("update-ref", "refs/remotes/origin/main", "HEAD")  # as a clone has it
    repo.git("tag", "v1.4.0")
    lines = _sh_lines(page)
    assert len(lines) == 4, lines
    for line in lines:
        ran = _run(line, repo.root)
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"
        if "--list-rules" in line:
            assert "TID-L008  version-bumped-without-upcaster" in ran.stdout
        if "--against origin/main" in line:
            assert "tidings check passed against origin/main" in ran.stdout
    report = json.loads((repo.root / "report.json").read_text())
    assert report["baseline"] == "v1.4.0", report.keys()

    workflow = yaml.safe_load(next(b.text for b in blocks(page) if "events.yml" in b.text))
    runs = [step["run"] for step in workflow["jobs"]["catalog"]["steps"]
            if str(step.get("run", "")).startswith("tidings ")]
    assert runs == ["tidings generate --check",
                    "tidings check --against origin/${{ github.base_ref }} --code app "
                    "--format github"]
    assert _run("tidings generate", repo.root).returncode == 0  # the committed generated/
    for line in runs:
        ran = _run(line.replace("${{ github.base_ref }}", "main"), repo.root)
        assert ran.returncode == 0, f"{line}\n{ran.stdout}\n{ran.stderr}"

    settings = next(b.text for b in blocks(page) if b.lang == "toml")
    (repo.root / "pyproject.toml").write_text(settings)
    (repo.root / ".tidings-ignore.yaml").write_text("[]\n")
    configured = _run("tidings check", repo.root)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    assert "against origin/main" in configured.stdout  # `against` and `code` from the file


@pytest.fixture
def pg_schema() -> Iterator[str]:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"docs_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # type: ignore[arg-type]


def test_the_postgresql_guide_upgrades_opens_and_reads(shop: Path, pg_schema: str) -> None:
    page = DOCS / "guides" / "postgres.md"
    text = page.read_text(encoding="utf-8")
    commands = re.findall(r"`(tidings (?:db upgrade|log) --db '([^']+)')`", text)
    assert [c[0].split(" --db")[0] for c in commands] == ["tidings db upgrade", "tidings log"]
    url = f"{PG_DSN}?schema={pg_schema}"
    upgrade, log = (command.replace(shown, url) for command, shown in commands)
    ran = _run(upgrade, shop)
    assert ran.returncode == 0, ran.stdout + ran.stderr

    code = next(b.text for b in blocks(page) if b.lang == "python")
    assert 'PostgresStore("postgresql://app@db.internal/shop", schema="events")' in code
    code = code.replace('"postgresql://app@db.internal/shop", schema="events"',
                        f'"{PG_DSN}", schema="{pg_schema}"')
    (shop / "pg_app.py").write_text(code + (
        "\n\nimport anyio\n\nfrom generated.shop.models import OrderPlaced\n\n\n"
        "async def main() -> None:\n    async with bus:\n"
        "        await bus.emit('orderPlaced', OrderPlaced(order_id='o-1', email='a@example.com',"
        " total='1.00'))\n\n\nanyio.run(main)\n"))
    opened = _run(f"{sys.executable} pg_app.py", shop)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    read = _run(log, shop)
    assert read.returncode == 0 and "orderPlaced v1" in read.stdout, read.stdout + read.stderr


def test_the_versions_guide_check_output_and_dead_reason_are_real(tmp_path: Path) -> None:
    page = DOCS / "guides" / "versions.md"
    header = "catalog: shop\ncontexts:\n  orders: {}\n  billing: {}\n"
    bumped = header + next(b.text for b in blocks(page) if b.title == "schemas/shop.yaml")
    old = yaml.safe_load(bumped)
    placed = old["events"]["orderPlaced"]
    placed["version"] = 1
    placed["payload"]["properties"]["total"] = {"type": "integer"}
    repo = Repo(tmp_path / "repo")
    repo.commit(old, "v1")
    (repo.root / "schemas" / "shop.yaml").write_text(bumped)
    shown = [b.text.strip() for b in blocks(page) if b.lang == "text"]
    flagged = _run("tidings check --against main", repo.root)
    assert flagged.returncode == 1
    assert shown[1] in flagged.stdout.splitlines(), flagged.stdout

    (repo.root / "app").mkdir()
    upcaster = next(b.text for b in blocks(page) if b.title == "app.py")
    (repo.root / "app" / "app.py").write_text(upcaster)
    passed = _run("tidings check --against main --code app", repo.root)
    assert passed.returncode == 0, passed.stdout
    assert "upcasters at app/app.py:1" in _run("tidings check --against main --code app -v",
                                               repo.root).stdout

    import pydantic

    from tidings.runtime import CatalogSpec, MessageSpec, UpcastError
    from tidings.runtime._upcast import Upcasters

    spec = MessageSpec("orderPlaced", "event", pydantic.BaseModel, version=2)
    with pytest.raises(UpcastError) as missing:
        Upcasters(CatalogSpec("shop", {"orderPlaced": spec})).load(spec, 1, "{}")
    assert shown[0] == f"cannot load the stored message: {missing.value}"
