"""docs/guides/replay.md, followed in a project started by `tidings init`: the receipt handler
changed as the page shows, a delivery that goes dead, the log, the replay from the command line,
and what the page says they print (ids and times aside). Real subprocesses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.docs._pages import DOCS, blocks, shell_env

PAGE = DOCS / "guides" / "replay.md"


def _normal(text: str) -> str:
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "ID", text)
    return re.sub(r"\d{4}-\d\d-\d\d[ T][\d:.+]+", "TIME", text)


def test_the_replay_guide_runs_as_written(tmp_path: Path) -> None:
    env = shell_env()
    init = subprocess.run([sys.executable, "-m", "tidings", "init", "shop"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    project = tmp_path / "shop"
    handler = next(b.text for b in blocks(PAGE) if b.title == "app.py")
    app = (project / "app.py").read_text(encoding="utf-8")
    start = app.index("@on_send_receipt(")
    end = app.index("\n\n\n", start)
    app = app[:start] + handler.rstrip("\n") + app[end:]
    (project / "app.py").write_text(app.replace("import uuid\n", "import os\nimport uuid\n"))
    done = subprocess.run([sys.executable, "-m", "tidings", "generate"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr

    printed = []
    commands = next(b.text for b in blocks(PAGE) if b.lang == "sh" and "replay" in b.text)
    for line in commands.strip().splitlines():
        expected = 1 if line.endswith("# exits 1") else 0
        ran = subprocess.run(["bash", "-c", line], cwd=project, env=env, capture_output=True,
                             text=True, timeout=120, check=False)
        assert ran.returncode == expected, f"{line}\n{ran.stdout}\n{ran.stderr}"
        assert "Traceback" not in ran.stderr
        printed += (ran.stderr + ran.stdout).splitlines()
    shown = next(b.text for b in blocks(PAGE) if b.lang == "text" and "replayed 1" in b.text)
    got = {_normal(line) for line in printed}
    assert [line for line in shown.strip().splitlines() if _normal(line) not in got] == []
