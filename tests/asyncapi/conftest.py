"""The official AsyncAPI parser (`@asyncapi/parser` from npm), installed once into a scratch
folder; missing node/npm skips locally and fails in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PARSER = "@asyncapi/parser@3.6.6"
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def asyncapi_parser(tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[Path]], list[dict[str, Any]]]:
    """Parse files with @asyncapi/parser: one {file, parsed, errors, warnings} per file."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "node and npm are needed to run @asyncapi/parser; install nodejs and npm"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI requires {reason}", pytrace=False)
        pytest.skip(reason)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    folder = cache / "tidings-tests" / "asyncapi-parser"
    if not (folder / "node_modules" / "@asyncapi" / "parser").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder), PARSER],
                       check=True, capture_output=True, timeout=600)
    script = folder / "validate.mjs"
    shutil.copyfile(HERE / "validate.mjs", script)

    def parse(files: list[Path]) -> list[dict[str, Any]]:
        done = subprocess.run(["node", str(script), *map(str, files)], check=True,
                              capture_output=True, text=True, timeout=600, cwd=folder)
        result: list[dict[str, Any]] = json.loads(done.stdout)
        return result

    return parse
