"""docs/getting-started.md, followed as written in a fresh directory: `tidings init`, generate,
run the app on its SQLite log, read the log, emit from the shell, check. Real subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs._pages import DOCS, ROOT, blocks, shell_env

PAGE = DOCS / "getting-started.md"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run every `sh` block of the page in order in one shell, except the install block (this
    test environment has tidings installed already, and the network is closed)."""
    shell = [b.text for b in blocks(PAGE) if b.lang == "sh"]
    install = [text for text in shell if "pip install" in text]
    assert len(install) == 1, "exactly one block installs tidings"
    script = "set -euo pipefail\n" + "".join(text for text in shell if text not in install)
    where = tmp_path_factory.mktemp("getting-started")
    done = subprocess.run(["bash", "-c", script], cwd=where, env=shell_env(), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"the page's commands failed:\n{done.stdout}\n{done.stderr}"
    return done, str(where / "shop")


def test_the_page_runs_and_the_app_prints_what_it_shows(
        followed: tuple[subprocess.CompletedProcess[str], str]) -> None:
    done, _ = followed
    shown = next(b.text for b in blocks(PAGE) if b.lang == "text" and "orders: placed order" in b.text)
    lines = [re.sub(UUID, "ID", line) for line in done.stdout.splitlines()]
    for expected in shown.strip().splitlines():
        assert re.sub(UUID, "ID", expected) in lines, f"{expected!r} not printed; got:\n{done.stdout}"


def test_the_files_shown_are_the_files_init_wrote(
        followed: tuple[subprocess.CompletedProcess[str], str]) -> None:
    _, project = followed
    titled = [b for b in blocks(PAGE) if b.title]
    assert {b.title for b in titled} == {"schemas/shop.yaml", "app.py", "pyproject.toml"}
    for block in titled:
        with open(f"{project}/{block.title}", encoding="utf-8") as handle:
            assert handle.read() == block.text, f"{block.title} on the page differs from tidings init's"


def test_the_log_holds_the_thread_and_the_shell_emit(
        followed: tuple[subprocess.CompletedProcess[str], str]) -> None:
    done, _ = followed
    assert re.search(r"orderPlaced v1 corr \w+ cause - by orders", done.stdout)
    assert re.search(r"sendReceipt v1 corr \w+ cause \w+ by billing", done.stdout)
    assert "billing.charge" in done.stdout and "email.receipt" in done.stdout
    assert "bob@example.com" in done.stdout  # the emit from the shell ran the app's handlers


def test_the_app_passes_mypy_strict(followed: tuple[subprocess.CompletedProcess[str], str],
                                    tmp_path: Path) -> None:
    """The scaffolded app and its generated package type-check. This checkout is installed in
    editable mode, whose import hook mypy does not follow, so tidings is put on MYPYPATH alone,
    as a regular install would place it."""
    _, project = followed
    (tmp_path / "tidings").symlink_to(ROOT / "tidings")
    env = {**shell_env(), "MYPYPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "app.py"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
