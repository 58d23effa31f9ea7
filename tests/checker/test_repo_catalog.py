"""This repository's own CI: `tidings check` passes on schemas/ and examples/ (real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings", "check", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)


def test_example_catalog_and_code_pass_the_check() -> None:
    args = ["--catalog", "schemas", "--format", "github"]
    if (ROOT / "examples").is_dir():
        args += ["--code", "examples"]
    result = run(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout
    # The worked example keeps one deliberate orphan: a deprecated event still produced.
    assert "title=TID-O006 deprecated-still-produced::" in result.stdout


def test_example_catalog_is_compatible_with_the_last_commit() -> None:
    head = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if head.returncode != 0:  # not a git checkout (an sdist): nothing to compare with
        return
    result = run("--against", "HEAD", "--format", "github")
    assert result.returncode == 0, result.stdout + result.stderr
