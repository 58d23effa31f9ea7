"""The CLI runs as a real subprocess, as a user would run it."""

from __future__ import annotations

import subprocess
import sys

import tidings


def run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tidings", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"tidings, version {tidings.__version__}"


def test_help_lists_exit_codes() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "Exit codes" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
