"""`tidings init` as a real subprocess: what it writes, what it refuses, and that a project it
starts inside an existing one generates, checks and runs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.docs._pages import shell_env


def tidings(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tidings", *args], cwd=cwd, env=shell_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def refused(done: subprocess.CompletedProcess[str], *, naming: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and naming in lines[0], done.stderr


def test_init_writes_a_catalog_settings_and_an_app(tmp_path: Path) -> None:
    done = tidings(tmp_path, "init", "My-Shop")
    assert done.returncode == 0, done.stderr
    project = tmp_path / "My-Shop"
    catalog = (project / "schemas/my_shop.yaml").read_text(encoding="utf-8")
    assert catalog.startswith("# yaml-language-server: $schema=catalog.schema.json\n")
    assert "catalog: my_shop\n" in catalog
    assert (project / "schemas/catalog.schema.json").read_text() == tidings(tmp_path, "schema").stdout
    assert "from generated.my_shop import MyShopBus" in (project / "app.py").read_text()
    settings = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["tidings"]
    assert settings == {"schemas": "schemas", "app": "app:bus", "db": "events.db",
                        "check": {"code": ["."]}}


def test_init_adds_the_table_to_an_existing_pyproject_and_the_project_runs(tmp_path: Path) -> None:
    old = '# my project\n[project]\nname = "shop"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 99'
    (tmp_path / "pyproject.toml").write_text(old, encoding="utf-8")
    assert tidings(tmp_path, "init", "--name", "shop").returncode == 0
    new = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert new.startswith(old + "\n")
    data = tomllib.loads(new)
    assert data["project"]["name"] == "shop" and data["tool"]["ruff"] == {"line-length": 99}
    assert data["tool"]["tidings"]["app"] == "app:bus"
    for args in (("generate",), ("check",), ("generate", "--check")):
        done = tidings(tmp_path, *args)
        assert done.returncode == 0, f"tidings {' '.join(args)}: {done.stdout}{done.stderr}"
    run = subprocess.run([sys.executable, "app.py"], cwd=tmp_path, env=shell_env(),
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "email: receipt for order" in run.stdout
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select",
                           "E,F,W,I,B,UP,SIM,RUF", "app.py"], cwd=tmp_path, env=shell_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    log = tidings(tmp_path, "log", "--format", "json")
    assert log.returncode == 0, log.stderr
    assert '"succeeded"' in log.stdout and "sendReceipt" in log.stdout


def test_init_refuses_an_existing_tool_tidings_table_and_writes_nothing(tmp_path: Path) -> None:
    old = '[tool.tidings]\nschemas = "events"\n'
    (tmp_path / "pyproject.toml").write_text(old, encoding="utf-8")
    refused(tidings(tmp_path, "init"), naming="pyproject.toml")
    assert (tmp_path / "pyproject.toml").read_text() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


def test_init_refuses_to_overwrite_a_file_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('mine')\n", encoding="utf-8")
    refused(tidings(tmp_path, "init"), naming="app.py")
    assert (tmp_path / "app.py").read_text() == "print('mine')\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.py"]


def test_init_twice_refuses_naming_the_first_file(tmp_path: Path) -> None:
    assert tidings(tmp_path, "init", "--name", "shop").returncode == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    refused(tidings(tmp_path, "init", "--name", "shop"), naming="schemas/shop.yaml")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_init_refuses_a_second_catalog_in_schemas(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "orders.yaml").write_text("catalog: orders\n", encoding="utf-8")
    refused(tidings(tmp_path, "init", "--name", "shop"), naming="orders.yaml")
    assert not (tmp_path / "app.py").exists() and not (tmp_path / "pyproject.toml").exists()


def test_init_refuses_a_catalog_name_that_is_no_package_name(tmp_path: Path) -> None:
    refused(tidings(tmp_path, "init", "--name", "1shop"), naming="--name")
    assert list(tmp_path.iterdir()) == []


def test_init_refuses_a_pyproject_that_is_not_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    refused(tidings(tmp_path, "init"), naming="pyproject.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]
