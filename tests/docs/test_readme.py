"""The README's example is real: its catalog and application, written to a fresh directory,
generate, run on an SQLite log and leave the delivery in it (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.docs._pages import ROOT, blocks, shell_env

README = ROOT / "README.md"


def test_readme_is_short() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_the_two_commands_are_the_ci_script_and_the_main_job() -> None:
    shell = [b.text.strip() for b in blocks(README) if b.lang == "sh"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci in shell, "the README's second command is what .ci/run runs"
    main_job = next(s for s in shell if "python -m examples.freight" in s)
    assert "tidings generate && tidings check" in main_job and "pip install -q -e ." in main_job


def test_the_readme_example_runs(tmp_path: Path) -> None:
    code = {b.lang: b.text for b in blocks(README) if b.lang in ("yaml", "python")}
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "shop.yaml").write_text(code["yaml"], encoding="utf-8")
    (tmp_path / "app.py").write_text(code["python"], encoding="utf-8")
    env = shell_env()

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run(sys.executable, "-m", "tidings", "generate")
    run(sys.executable, "-m", "tidings", "check")
    assert "charging 9.90 attempt 1" in run(sys.executable, "app.py")
    log = run(sys.executable, "-m", "tidings", "log", "--db", "events.db")
    assert "orderPlaced" in log and "billing.charge" in log and "succeeded" in log
