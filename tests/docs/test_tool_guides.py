"""The shell examples of the generated-code and catalog-format references and of the AsyncAPI
and catalog-site guides, each line from the page, run on a copy of the repository's catalog in
a real git repository (real subprocesses; a reader's own AsyncAPI file is the only input
made up here)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import yaml

from tests.checker._repo import GIT_ENV
from tests.docs._pages import DOCS, ROOT, blocks, shell_env

STREETLIGHTS = textwrap.dedent('''
    asyncapi: 2.6.0
    info: {title: Streetlights, version: 1.0.0}
    channels:
      smartylighting/streetlights/1/0/event/lighting/measured:
        subscribe:
          message:
            name: lightMeasured
            payload:
              type: object
              properties:
                lumens: {type: integer, minimum: 0}
                sentAt: {type: string, format: date-time}
''')


def _commands(page: Path) -> list[tuple[str, list[str]]]:
    """(command, the lines the page shows it printing) for each `tidings` line of its shell
    and console blocks, in order."""
    found: list[tuple[str, list[str]]] = []
    for block in blocks(page):
        if block.lang not in ("sh", "console"):
            continue
        for line in block.text.splitlines():
            command = line.removeprefix("$ ")
            if command.startswith("tidings "):
                found.append((command.split("  #")[0].strip(), []))
            elif found and block.lang == "console" and not line.startswith("$"):
                found[-1][1].append(line)
    return found


def _numbers(text: str) -> str:
    return re.sub(r"\d+(\.\d+)?", "N", text)


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    git = {k: v for k, v in GIT_ENV.items() if k.startswith("GIT_")}
    ran = subprocess.run(["bash", "-c", command], cwd=cwd, env={**shell_env(), **git},
                         capture_output=True, text=True, timeout=300, check=False)
    assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
    assert "Traceback" not in ran.stderr
    return ran


def test_the_tool_guides_commands_run(tmp_path: Path) -> None:
    project = tmp_path / "freight"
    shutil.copytree(ROOT / "schemas", project / "schemas")
    (project / "pyproject.toml").write_text('[project]\nname = "freight"\n')
    for command in ("git init -q -b main", "git add -A", "git commit -q -m catalog",
                    "git update-ref refs/remotes/origin/main HEAD"):
        _run(command, project)

    generate = _commands(DOCS / "reference" / "generated-code.md")
    assert [c for c, _ in generate] == ["tidings generate", "tidings generate --check"]
    for command, _ in generate:
        _run(command, project)
    assert (project / "generated" / "freight" / "bus.py").is_file()

    [(schema, _)] = _commands(DOCS / "reference" / "catalog.md")
    _run(schema, project)
    assert json.loads((project / "schemas" / "catalog.schema.json").read_text())["title"]

    site = _commands(DOCS / "guides" / "catalog-site.md")
    assert len(site) == 3
    for command, shown in site:
        ran = _run(command, project)
        got = {_numbers(line) for line in ran.stdout.splitlines()}
        assert {_numbers(line) for line in shown} <= got, (shown, ran.stdout)
    assert (project / "site" / "index.html").is_file()
    assert any((project / "docs" / "catalog").glob("*.md"))

    asyncapi = _commands(DOCS / "guides" / "asyncapi.md")
    exports = [c for c, _ in asyncapi if c.startswith("tidings export")]
    imports = [c for c, _ in asyncapi if c.startswith("tidings import")]
    assert len(exports) == 3 and len(imports) == 2
    outputs = [_run(command, project).stdout for command in exports]
    assert yaml.safe_load((project / "asyncapi.yaml").read_text())["asyncapi"].startswith("3.")
    assert any((project / "asyncapi").iterdir())
    assert json.loads(outputs[2])["asyncapi"].startswith("3.")
    lights = tmp_path / "lights"  # a new project, from someone else's AsyncAPI document
    lights.mkdir()
    (lights / "streetlights.yaml").write_text(STREETLIGHTS)
    first = _run(imports[0], lights)
    assert (lights / "schemas" / "streetlights.yaml").is_file(), first.stdout + first.stderr
    _run("tidings generate", lights)
    again = tmp_path / "again"  # the exported document, imported into a project of its own
    again.mkdir()
    shutil.copy(project / "asyncapi.yaml", again / "asyncapi.yaml")
    _run(imports[1], again)
    _run("tidings generate", again)
    assert (again / "generated" / "freight" / "bus.py").is_file()
