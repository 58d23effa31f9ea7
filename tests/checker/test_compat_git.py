"""Compatibility against real git baselines: lineage, modes, _TRANSITIVE history, path baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tidings._errors import UserError
from tidings.checker import (
    CheckSettings,
    Finding,
    Severity,
    load_git_baseline,
    load_git_history,
    run_check,
)

from ._repo import Repo, base


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    r = Repo(tmp_path / "repo")
    r.commit(base(), "v1")
    monkeypatch.chdir(r.root)
    return r


def check(repo: Repo, against: str = "main", **kw: Any) -> list[Finding]:
    result = run_check(CheckSettings(schemas=Path("schemas"), against=against, **kw),
                       cwd=repo.root)
    return result.findings


def errors(findings: list[Finding]) -> list[tuple[str, str | None, str | None]]:
    return sorted((f.rule.name, f.subject, f.pointer) for f in findings
                  if f.severity is Severity.ERROR)


def placed(cat: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = cat["events"]["orderPlaced"]["payload"]
    return payload


def test_unchanged_catalog_is_clean(repo: Repo) -> None:
    assert errors(check(repo)) == []


def test_required_field_removed_breaks_forward_only(repo: Repo) -> None:
    cat = base()
    placed(cat)["required"] = ["orderId"]
    repo.write(cat)
    found = check(repo)
    assert errors(found) == []  # BACKWARD: new readers read old data fine
    cat["events"]["orderPlaced"]["compatibility"] = "FORWARD"
    repo.write(cat)
    assert errors(check(repo)) == [("required-removed", "orderPlaced", "/required")]


def test_enum_narrowed_is_an_error_with_location_and_values(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid"]
    repo.write(cat)
    (f,) = [f for f in check(repo) if f.severity is Severity.ERROR]
    assert f.rule.id == "TID-C027" and f.rule.name == "enum-narrowed"
    assert f.subject == "orderPlaced"
    assert f.pointer == "/properties/status/enum"
    assert f.old == ["new", "paid", "shipped"] and f.new == ["new", "paid"]
    assert f.broken == ("backward",)
    assert f.file == "schemas/shop.yaml" and f.line and f.column
    # The finding points at the changed keyword's line, not at the event's name.
    line = (repo.root / f.file).read_text().splitlines()[f.line - 1]
    assert line[f.column - 1:].startswith("enum:")
    assert 'removed "shipped"' in f.message
    assert f.baseline == "main"
    assert "version` to 2" in f.message


def test_version_bump_starts_a_new_lineage(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["note"]["maxLength"] = 10  # stored v1 messages may not fit
    cat["events"]["orderPlaced"]["version"] = 2
    repo.write(cat)
    found = check(repo)
    assert errors(found) == [
        ("version-bumped-without-upcaster", "orderPlaced", "/properties/note/maxLength")]
    text = next(f.message for f in found if f.severity is Severity.ERROR)
    assert "add an upcaster or keep the change compatible" in text
    assert "@bus.upcaster('orderPlaced', from_version=1)" in text
    (repo.root / "app").mkdir()
    (repo.root / "app" / "versions.py").write_text(
        "@bus.upcaster('orderPlaced', from_version=1)\n"
        "def to_v2(data):\n    return {**data, 'note': data.get('note', '')[:10]}\n")
    found = check(repo, code=[Path("app")])
    assert errors(found) == []
    bumped = [f for f in found if f.subject == "orderPlaced" and f.rule.name == "version-bumped"]
    assert len(bumped) == 1 and "upcasters at app/versions.py:1" in bumped[0].message


def test_a_compatible_bump_and_a_bump_over_two_versions(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["note"]["description"] = "free text"  # old messages still fit
    cat["events"]["orderPlaced"]["version"] = 2
    repo.write(cat)
    assert errors(check(repo)) == []
    placed(cat)["required"] = ["orderId", "status", "note"]
    cat["events"]["orderPlaced"]["version"] = 3
    repo.write(cat)
    (repo.root / "app").mkdir()
    (repo.root / "app" / "versions.py").write_text(
        "@bus.upcaster('orderPlaced', 1)\ndef to_v2(data):\n    return data\n")
    found = check(repo, code=[Path("app")])
    assert errors(found) == [("version-bumped-without-upcaster", "orderPlaced", "/required")]
    assert "from_version=2" in next(f.message for f in found if f.severity is Severity.ERROR)


def test_version_decrease_and_kind_change_and_removal(repo: Repo) -> None:
    cat = base()
    cat["events"]["orderPlaced"]["version"] = 3
    repo.commit(cat, "v3")
    cat["events"]["orderPlaced"]["version"] = 2
    receipt = cat["commands"].pop("sendReceipt")
    cat["events"]["sendReceipt"] = {"producers": receipt["producers"], "consumers": ["email"],
                                    "payload": receipt["payload"]}
    del cat["events"]["orderPaid"]
    repo.write(cat)
    assert errors(check(repo)) == [
        ("kind-changed", "sendReceipt", None),
        ("message-removed", "orderPaid", None),
        ("version-decreased", "orderPlaced", None),
    ]


def test_renamed_event_is_removed_plus_added(repo: Repo) -> None:
    cat = base()
    cat["events"]["orderWasPlaced"] = cat["events"].pop("orderPlaced")
    repo.write(cat)
    found = check(repo)
    assert errors(found) == [("message-removed", "orderPlaced", None)]
    assert any(f.rule.name == "message-added" and f.subject == "orderWasPlaced" for f in found)


def test_mode_none_reports_but_never_fails(repo: Repo) -> None:
    cat = base()
    cat["events"]["orderPlaced"]["compatibility"] = "NONE"
    placed(cat)["properties"]["orderId"] = {"type": "integer"}
    repo.write(cat)
    found = [f for f in check(repo) if f.subject == "orderPlaced"]
    assert [(f.rule.name, f.severity) for f in found] == [("type-changed", Severity.INFO)]


def test_full_mode_needs_both_directions(repo: Repo) -> None:
    cat = base()
    cat["events"]["orderPlaced"]["compatibility"] = "FULL"
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid", "shipped", "lost"]
    repo.write(cat)
    assert errors(check(repo)) == [("enum-extended", "orderPlaced", "/properties/status/enum")]


def test_strict_policy_flags_property_added_to_open_model(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["coupon"] = {"type": "string"}
    repo.write(cat)
    assert errors(check(repo)) == []
    assert errors(check(repo, policy="strict")) == [
        ("property-added-to-open-model", "orderPlaced", "/properties/coupon")]


def test_change_in_shared_defs_is_reported_for_every_user(repo: Repo) -> None:
    cat = base()
    cat["$defs"] = {"OrderId": {"type": "string"}}
    for name in ("orderPlaced", "orderPaid"):
        cat["events"][name]["payload"]["properties"]["orderId"] = {"$ref": "#/$defs/OrderId"}
    repo.commit(cat, "shared id")
    assert errors(check(repo)) == []  # inline -> $ref is no change
    cat["$defs"]["OrderId"] = {"type": "string", "maxLength": 8}
    repo.write(cat)
    found = check(repo)
    # One finding, at the definition (shop.yaml's `$defs`), naming every message that uses it.
    assert errors(found) == [
        ("max-length-narrowed", "orderPaid", "/properties/orderId/maxLength")]
    finding = next(f for f in found if f.rule.name == "max-length-narrowed")
    assert finding.extra["affects"] == ["orderPaid", "orderPlaced"]
    assert finding.file == "schemas/shop.yaml"
    line = (repo.root / "schemas" / "shop.yaml").read_text().splitlines()[(finding.line or 0) - 1]
    assert "maxLength" in line


def test_transitive_compares_every_version_of_the_lineage(repo: Repo) -> None:
    cat = base()
    cat["events"]["orderPlaced"]["compatibility"] = "BACKWARD_TRANSITIVE"
    repo.commit(cat, "transitive")
    # v: the enum gains "lost" (compatible), then loses "shipped" while re-adding nothing
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid", "shipped", "lost"]
    repo.commit(cat, "add lost")
    placed(cat)["properties"]["note"] = {"type": "string", "maxLength": 10}
    repo.commit(cat, "note bounded")
    placed(cat)["properties"]["note"] = {"type": "string"}
    repo.write(cat)
    # Against the last commit alone, dropping maxLength widens: fine.
    cat2 = dict(cat)
    cat2["events"] = {**cat["events"]}
    cat2["events"]["orderPlaced"] = {**cat["events"]["orderPlaced"], "compatibility": "BACKWARD"}
    repo.write(cat2)
    assert errors(check(repo)) == []
    # Remove "lost" again: against main only it is a narrowing; transitively too, once.
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid", "shipped"]
    repo.write(cat)
    found = check(repo)
    enum_errors = [f for f in found if f.rule.name == "enum-narrowed"]
    assert len(enum_errors) == 1
    # Narrow "shipped" away: the oldest versions (which had it) are compared too.
    placed(cat)["properties"]["status"]["enum"] = ["new", "paid", "lost"]
    repo.write(cat)
    found = check(repo)
    baselines = {f.baseline for f in found if f.rule.name == "enum-changed" or
                 f.rule.name == "enum-narrowed"}
    assert "main" in baselines and any(b and b.startswith("main@") for b in baselines)


def test_transitive_history_skips_other_lineages(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["orderId"] = {"type": "integer"}
    cat["events"]["orderPlaced"]["version"] = 2
    cat["events"]["orderPlaced"]["compatibility"] = "FULL_TRANSITIVE"
    repo.commit(cat, "v2 lineage")
    placed(cat)["properties"]["note"] = {"type": "string", "maxLength": 3}
    repo.write(cat)
    found = check(repo)
    # Only the v2 version is compared: the v1 integer/string change is another lineage.
    assert errors(found) == [("max-length-narrowed", "orderPlaced", "/properties/note/maxLength")]


def test_history_lists_distinct_versions_newest_first(repo: Repo) -> None:
    c1 = repo.git("rev-parse", "HEAD")
    cat = base()
    placed(cat)["properties"]["note"] = {"type": "string", "maxLength": 50}
    c2 = repo.commit(cat, "v2")
    (repo.root / "README").write_text("x")
    repo.commit(None, "not the catalog")
    history, skipped = load_git_history(repo.root / "schemas", "HEAD")
    # The version at HEAD (c2's) is the baseline itself, so history starts below it.
    assert c2 != c1 and [b.label for b in history] == [f"HEAD@{c1[:10]}"]
    assert skipped == []
    # Restricted to messages, a version loads only those whose payload changed since.
    history, _ = load_git_history(repo.root / "schemas", "HEAD", only={"orderPaid"})
    assert history == []
    history, _ = load_git_history(repo.root / "schemas", "HEAD", only={"orderPlaced"})
    (old,) = history
    assert old.catalog is not None and list(old.catalog.events) == ["orderPlaced"]
    assert "note" in old.catalog.events["orderPlaced"].payload["properties"]
    assert "maxLength" not in old.catalog.events["orderPlaced"].payload["properties"]["note"]


def test_baseline_without_catalog_and_bad_ref(repo: Repo) -> None:
    first = repo.git("rev-parse", "HEAD")
    (repo.root / "schemas" / "extra").mkdir()
    with pytest.raises(UserError, match="no such git ref or path"):
        load_git_baseline(repo.root / "schemas", "no-such-branch")
    repo.git("checkout", "-q", "--orphan", "empty")
    repo.git("rm", "-q", "-r", "--cached", "schemas")
    repo.git("commit", "-q", "--allow-empty", "-m", "empty")
    assert load_git_baseline(repo.root / "schemas", "empty").catalog is None
    assert load_git_baseline(repo.root / "schemas", first).catalog is not None


def test_path_baseline(repo: Repo, tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "shop.yaml").write_text((repo.root / "schemas" / "shop.yaml").read_text())
    cat = base()
    placed(cat)["required"] = ["orderId", "status", "note"]
    repo.write(cat)
    assert errors(check(repo, against=str(old))) == [("required-added", "orderPlaced", "/required")]


def test_broken_baseline_is_a_user_error(repo: Repo) -> None:
    (repo.root / "schemas" / "shop.yaml").write_text("catalog: [unclosed\n")
    repo.commit(None, "broken")
    repo.write(base())
    with pytest.raises(UserError, match="baseline catalog at main"):
        check(repo)


def test_baseline_loads_only_what_changed(repo: Repo) -> None:
    cat = base()
    placed(cat)["properties"]["note"] = {"type": "string", "maxLength": 9}
    del cat["commands"]["sendReceipt"]
    repo.write(cat)
    current = {"shop.yaml": (repo.root / "schemas" / "shop.yaml").read_text()}
    baseline = load_git_baseline(repo.root / "schemas", "main", current=current)
    assert baseline.catalog is not None and baseline.index is not None
    assert [m.name for m in baseline.catalog.messages()] == ["orderPlaced", "sendReceipt"]
    assert sorted(baseline.index) == ["orderPaid", "orderPlaced", "sendReceipt"]
    stub = baseline.index["sendReceipt"]
    assert (stub.kind, stub.version, stub.file) == ("command", 1, "schemas/shop.yaml")
    text = repo.git("show", "main:schemas/shop.yaml").splitlines()
    assert text[stub.line - 1].strip() == "sendReceipt:"
    assert errors(check(repo)) == [
        ("max-length-narrowed", "orderPlaced", "/properties/note/maxLength"),
        ("message-removed", "sendReceipt", None),
    ]


def test_unchanged_files_are_not_reloaded(repo: Repo) -> None:
    cat = base()
    extra = {"events": {"orderShipped": {
        "producers": ["orders"], "consumers": ["email"],
        "payload": {"type": "object", "properties": {"orderId": {"$ref": "#/$defs/Id"}}}}},
        "$defs": {"Id": {"type": "string"}}}
    repo.write(extra, "more.yaml")
    repo.commit(cat, "two files")
    placed(cat)["properties"]["note"] = {"type": "string", "maxLength": 9}
    repo.write(cat)
    current = {p.name: p.read_text() for p in (repo.root / "schemas").glob("*.yaml")}
    baseline = load_git_baseline(repo.root / "schemas", "main", current=current)
    assert baseline.catalog is not None and baseline.index is not None
    assert list(baseline.catalog.events) == ["orderPlaced"]
    assert baseline.unchanged_files == frozenset({"schemas/more.yaml"})
    found = check(repo)
    assert errors(found) == [("max-length-narrowed", "orderPlaced", "/properties/note/maxLength")]
    assert not [f for f in found if f.rule.name == "message-added"]
    # A change to shared definitions in a changed file: everything is loaded and compared.
    extra["$defs"]["Id"] = {"type": "string", "maxLength": 5}
    repo.write(extra, "more.yaml")
    current = {p.name: p.read_text() for p in (repo.root / "schemas").glob("*.yaml")}
    baseline = load_git_baseline(repo.root / "schemas", "main", current=current)
    assert baseline.index is None
    assert ("max-length-narrowed", "orderShipped", "/properties/orderId/maxLength") in errors(
        check(repo))


def test_strip_messages_keeps_the_rest() -> None:
    from tidings.checker._baseline import _strip_messages

    text = ("# head\ncatalog: x\nevents:\n  a:\n    payload: {}\n\n  # note\n  b: {}\n"
            "contexts: {c: {}}\ncommands: {d: {handler: c}}\n$defs:\n  Id: {type: string}\n")
    assert _strip_messages(text) == (
        "# head\ncatalog: x\nevents: {}\ncontexts: {c: {}}\ncommands: {}\n"
        "$defs:\n  Id: {type: string}\n")


def test_baseline_without_catalog_is_a_warning(repo: Repo) -> None:
    repo.git("checkout", "-q", "--orphan", "bare")
    repo.git("rm", "-q", "-r", "--cached", "schemas")
    repo.git("commit", "-q", "--allow-empty", "-m", "empty")
    found = check(repo, against="bare")
    (f,) = [f for f in found if f.rule.id.startswith("TID-L")]
    assert (f.rule.name, f.severity, f.baseline) == (
        "baseline-has-no-catalog", Severity.WARNING, "bare")
