"""`tidings check` as a user runs it: a real subprocess in a real temporary git repository."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from ._repo import Repo, base


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.commit(base(), "v1")
    return r


def placed(cat: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = cat["events"]["orderPlaced"]["payload"]
    return payload


def test_clean_repo_exits_0(repo: Repo) -> None:
    result = repo.tidings("check", "--against", "main")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tidings check passed against main: 0 error(s)" in result.stdout


def test_removed_required_field_text_and_github(repo: Repo) -> None:
    cat = base()
    cat["events"]["orderPlaced"]["compatibility"] = "FULL"
    del placed(cat)["properties"]["status"]
    placed(cat)["required"] = ["orderId"]
    repo.write(cat)
    text = repo.tidings("check", "--against", "main")
    assert text.returncode == 1
    assert "schemas/shop.yaml:" in text.stdout
    assert "error TID-C007 required-removed" in text.stdout
    assert "orderPlaced" in text.stdout and "FULL" in text.stdout
    gh = repo.tidings("check", "--against", "main", "--format", "github")
    assert gh.returncode == 1
    line = next(x for x in gh.stdout.splitlines() if "TID-C007" in x)
    assert line.startswith("::error file=schemas/shop.yaml,line=")
    assert ",title=TID-C007 required-removed::" in line
    assert "\n" not in line


def test_narrowed_enum_and_renamed_event(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid"]
    cat["events"]["orderSettled"] = cat["events"].pop("orderPaid")
    repo.write(cat)
    result = repo.tidings("check", "--against", "main", "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    errors = sorted((f["name"], f["subject"]) for f in doc["findings"] if f["severity"] == "error")
    assert errors == [("enum-narrowed", "orderPlaced"), ("message-removed", "orderPaid")]
    enum = next(f for f in doc["findings"] if f["name"] == "enum-narrowed")
    assert enum["rule"] == "TID-C027" and enum["broken"] == ["backward"]
    assert enum["old"] == ["new", "paid", "shipped"] and enum["new"] == ["new", "paid"]
    assert enum["pointer"] == "/properties/status/enum"
    assert doc["exit_code"] == 1 and doc["summary"]["error"] == 2


def test_compatible_change_passes(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["status"]["enum"].append("lost")
    placed(cat)["properties"]["coupon"] = {"type": "string"}
    repo.write(cat)
    result = repo.tidings("check", "--against", "main", "-v")
    assert result.returncode == 0, result.stdout
    # Allowed by BACKWARD, but old readers may meet the new value: a visible warning.
    assert "warning TID-C026 enum-extended" in result.stdout
    assert "info TID-C001 property-added" in result.stdout


def test_fail_on_and_formats(repo: Repo) -> None:
    cat = base()
    cat["contexts"]["audit"] = {}
    repo.write(cat)
    assert repo.tidings("check").returncode == 0
    warn = repo.tidings("check", "--fail-on", "warning", "--format", "junit")
    assert warn.returncode == 1
    suite = ET.fromstring(warn.stdout.split("\n", 1)[1])
    assert suite.get("failures") == "1"
    assert suite.find("testcase/failure").get("type") == "TID-O005"  # type: ignore[union-attr]
    md = repo.tidings("check", "--format", "markdown")
    assert md.returncode == 0 and "| `TID-O005` context-unused |" in md.stdout


def test_output_file(repo: Repo) -> None:
    result = repo.tidings("check", "--format", "json", "-o", "report.json")
    assert result.returncode == 0
    assert json.loads((repo.root / "report.json").read_text())["exit_code"] == 0
    assert "tidings check passed" in result.stderr


def test_code_orphans_point_at_file_and_line(repo: Repo) -> None:
    (repo.root / "app" / "orders").mkdir(parents=True)
    (repo.root / "app" / "orders" / "svc.py").write_text(
        "async def f(bus):\n    await bus.emit('orderShiped', {})\n")
    result = repo.tidings("check", "--code", "app", "--format", "github")
    assert result.returncode == 1
    assert ("::error file=app/orders/svc.py,line=2,col=11,title=TID-S001 unknown-message-in-code::"
            in result.stdout)


@pytest.mark.parametrize(("args", "message"), [
    (("--against", "no-such-ref"), "no such git ref or path"),
    (("--catalog", "nowhere"), "nowhere"),
    (("--code", "nowhere"), "--code nowhere: no such file or directory"),
    (("--format", "xml"), "Invalid value for '--format'"),
])
def test_usage_errors_exit_2(repo: Repo, args: tuple[str, ...], message: str) -> None:
    result = repo.tidings("check", *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_catalog_exits_2(repo: Repo) -> None:
    (repo.root / "schemas" / "shop.yaml").write_text("catalog: shop\nevents: {x: 1}\n")
    result = repo.tidings("check")
    assert result.returncode == 2
    assert "schemas/shop.yaml:" in result.stderr and "Traceback" not in result.stderr


def test_ignore_file_without_reason_exits_2(repo: Repo) -> None:
    (repo.root / ".tidings-ignore.yaml").write_text("- rule: TID-O005\n")
    result = repo.tidings("check")
    assert result.returncode == 2
    assert ".tidings-ignore.yaml:1: `reason` is required" in result.stderr


def test_ignore_file_silences_a_finding(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid"]
    repo.write(cat)
    (repo.root / ".tidings-ignore.yaml").write_text(
        "- rule: enum-narrowed\n  event: orderPlaced\n"
        "  reason: no 'shipped' order was ever stored (checked 2026-11-20)\n")
    result = repo.tidings("check", "--against", "main", "--format", "json")
    assert result.returncode == 0, result.stdout
    doc = json.loads(result.stdout)
    assert [i["reason"] for i in doc["ignored"]] == [
        "no 'shipped' order was ever stored (checked 2026-11-20)"]


def test_settings_precedence(repo: Repo) -> None:
    cat = base()
    cat["contexts"]["audit"] = {}
    repo.write(cat)
    env = {"TIDINGS_FAIL_ON": "warning"}
    assert repo.tidings("check", env=env).returncode == 1  # env applies
    (repo.root / "pyproject.toml").write_text('[tool.tidings.check]\nfail-on = "error"\n')
    assert repo.tidings("check", env=env).returncode == 0  # pyproject beats env
    assert repo.tidings("check", "--fail-on", "warning", env=env).returncode == 1  # flag beats all
    (repo.root / "pyproject.toml").write_text('[tool.tidings.check]\nfail-on = "loud"\n')
    bad = repo.tidings("check")
    assert bad.returncode == 2 and "fail-on in" in bad.stderr and "'loud'" in bad.stderr


def test_list_rules(repo: Repo) -> None:
    result = repo.tidings("check", "--list-rules")
    assert result.returncode == 0
    assert "TID-C012  property-removed" in result.stdout


def test_removed_required_field_under_backward_is_a_visible_warning(repo: Repo) -> None:
    cat = base()
    del placed(cat)["properties"]["status"]
    placed(cat)["required"] = ["orderId"]
    repo.write(cat)
    text = repo.tidings("check", "--against", "main")
    assert text.returncode == 0  # BACKWARD: stored messages still replay
    assert "warning TID-C007 required-removed" in text.stdout
    assert "which BACKWARD allows" in text.stdout
    gh = repo.tidings("check", "--against", "main", "--format", "github")
    assert "::warning file=schemas/shop.yaml,line=" in gh.stdout
    assert repo.tidings("check", "--against", "main", "--fail-on", "warning").returncode == 1


def test_unknown_keywords_are_warnings_and_errors_with_strict_keywords(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["status"]["tsType"] = "Status"
    repo.write(cat)
    lax = repo.tidings("check", "--format", "json")
    assert lax.returncode == 0, lax.stdout + lax.stderr
    found = [f for f in json.loads(lax.stdout)["findings"] if f["rule"] == "TID-K001"]
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert "'tsType'" in found[0]["message"] and found[0]["file"] == "schemas/shop.yaml"
    (repo.root / "pyproject.toml").write_text("[tool.tidings]\nstrict_keywords = true\n")
    strict = repo.tidings("check")
    assert strict.returncode == 2, strict.stdout + strict.stderr
    lines = strict.stderr.strip().splitlines()
    assert len(lines) == 1 and "schemas/shop.yaml:" in lines[0] and "'tsType'" in lines[0]
    assert "Traceback" not in strict.stderr


def test_a_breaking_bump_needs_an_upcaster_in_the_scanned_code(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["status"] = {"type": "integer"}  # v1 messages hold text
    cat["events"]["orderPlaced"]["version"] = 2
    repo.write(cat)
    (repo.root / "app").mkdir()
    (repo.root / "app" / "shop.py").write_text(
        "async def place(bus):\n    await bus.emit('orderPlaced', {})\n")
    flagged = repo.tidings("check", "--against", "main", "--code", "app")
    assert flagged.returncode == 1, flagged.stdout + flagged.stderr
    assert "TID-L008" in flagged.stdout
    assert "add an upcaster or keep the change compatible" in flagged.stdout
    assert "@bus.upcaster('orderPlaced', from_version=1)" in flagged.stdout
    (repo.root / "app" / "versions.py").write_text(
        "from app.shop import bus\n\n\n"
        "@bus.upcaster('orderPlaced', from_version=1)\n"
        "def to_v2(data):\n    return {**data, 'status': ['new', 'paid', 'shipped'].index("
        "data['status'])}\n")
    passed = repo.tidings("check", "--against", "main", "--code", "app")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "TID-L008" not in passed.stdout
    rules = repo.tidings("check", "--list-rules")
    assert "TID-L008  version-bumped-without-upcaster" in rules.stdout
