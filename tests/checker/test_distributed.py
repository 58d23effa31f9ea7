"""Messages that cross the wire: compatibility weaker than FULL (TID-D001, from the catalog) and
sync subscriptions without `remote=False` (TID-D002, from the code's AST)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tidings.catalog import Catalog, load_catalog, load_catalog_texts
from tidings.checker import (
    CheckSettings,
    Finding,
    distribution_findings,
    run_check,
    scan_code,
    why_distributed,
    wire_sync_findings,
)

from ._repo import GIT_ENV

ROOT = Path(__file__).resolve().parents[2]

CATALOG = """\
catalog: shop
contexts:
  orders: {}
  billing: {}
  fraud: {transport: nats}
  ledger: {transport: sns-sqs}
defaults:
  compatibility: BACKWARD
events:
  orderPlaced:
    producers: [orders]
    consumers: [billing, fraud]
    payload: {type: object}
  orderFlagged:
    producers: [fraud]
    consumers: [orders, ledger]
    compatibility: FORWARD_TRANSITIVE
    payload: {type: object}
  orderPaid:
    producers: [billing]
    consumers: [orders]
    distributed: true
    compatibility: FULL
    payload: {type: object}
  orderNoted:
    producers: [orders]
    consumers: [billing]
    distributed: true
    compatibility: NONE
    payload: {type: object}
  orderSeen:
    producers: [orders]
    consumers: [billing]
    payload: {type: object}
commands:
  postEntry:
    producers: [billing]
    handler: ledger
    compatibility: FULL_TRANSITIVE
    payload: {type: object}
  recount:
    producers: [orders]
    handler: billing
    payload: {type: object}
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog_texts({"shop.yaml": CATALOG}, root="schemas")


def lines(findings: list[Finding]) -> list[str]:
    return [f"{f.where}: {f.severity.value} {f.rule.id} {f.rule.name}: {f.message}"
            for f in sorted(findings, key=Finding.sort_key)]


def test_why_distributed(catalog: Catalog) -> None:
    assert why_distributed(catalog, catalog.message("orderPlaced")) == (
        "context 'fraud' has transport nats")
    assert why_distributed(catalog, catalog.message("orderFlagged")) == (
        "contexts 'fraud' (nats) and 'ledger' (sns-sqs) have transports")
    assert why_distributed(catalog, catalog.message("orderPaid")) == "declared `distributed: true`"


def test_distributed_compatibility_below_full_is_a_warning(catalog: Catalog) -> None:
    assert lines(distribution_findings(catalog)) == [
        "schemas/shop.yaml:10:3: warning TID-D001 distributed-compatibility-below-full: event "
        "'orderPlaced' is distributed (context 'fraud' has transport nats) but its compatibility "
        "is BACKWARD: its producers and consumers deploy independently, so both directions must "
        "hold; set `compatibility: FULL` (or FULL_TRANSITIVE)",
        "schemas/shop.yaml:14:3: warning TID-D001 distributed-compatibility-below-full: event "
        "'orderFlagged' is distributed (contexts 'fraud' (nats) and 'ledger' (sns-sqs) have "
        "transports) but its compatibility is FORWARD_TRANSITIVE: its producers and consumers "
        "deploy independently, so both directions must hold; set `compatibility: FULL` (or "
        "FULL_TRANSITIVE)",
        "schemas/shop.yaml:25:3: warning TID-D001 distributed-compatibility-below-full: event "
        "'orderNoted' is distributed (declared `distributed: true`) but its compatibility is "
        "NONE: its producers and consumers deploy independently, so both directions must hold; "
        "set `compatibility: FULL` (or FULL_TRANSITIVE)",
    ]
    # FULL (orderPaid) and FULL_TRANSITIVE (postEntry) pass; in-process messages are not checked.
    finding = next(f for f in distribution_findings(catalog) if f.subject == "orderPlaced")
    assert (finding.new, finding.file, finding.line) == ("BACKWARD", "schemas/shop.yaml", 10)


CODE = {
    "billing/handlers.py": """
        from generated.shop.subscribers.billing import on_order_placed, on_recount
        from generated.shop.subscribers import billing as subs

        def setup(bus, flag, options):
            on_order_placed(bus)(charge)                                  # default sync: error
            on_order_placed(bus, mode="sync", remote=None)(charge)        # error
            on_order_placed(bus, mode="sync", remote=False)(charge)       # in-process: fine
            on_order_placed(bus, mode="async")(charge)                    # fine
            subs.on_order_placed(bus, mode="sync", remote=True)(charge)   # error
            on_order_placed(bus, mode="sync", remote=flag)(charge)        # unknown: left alone
            on_order_placed(bus, **options)(charge)                       # unknown: left alone
            on_recount(bus, mode="sync")(count)                           # not distributed
            on_recount(bus, mode="async", remote=True)(count)             # error: never remote
    """,
    "orders/jobs.py": """
        def setup(bus, mode):
            bus.on(["orderPaid", "orderSeen"], record)                    # orderPaid: error
            bus.on("orderFlagged", record, mode="serial")                 # fine
            bus.on("orderFlagged", record, mode=mode)                     # unknown: left alone
            bus.once("orderFlagged")                                      # no delivery mode
            bus.emit("orderPaid", {})                                     # an emit
    """,
}


def write_code(root: Path) -> None:
    for rel, text in CODE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def test_scan_records_mode_and_remote(tmp_path: Path, catalog: Catalog) -> None:
    write_code(tmp_path)
    uses, _ = scan_code([tmp_path], catalog, base=tmp_path)
    got = [(u.name, u.line, u.via, u.mode, u.remote) for u in uses if u.file == "billing/handlers.py"]
    assert got == [
        ("orderPlaced", 5, "on_order_placed", "sync", ""),
        ("orderPlaced", 6, "on_order_placed", "sync", "None"),
        ("orderPlaced", 7, "on_order_placed", "sync", "False"),
        ("orderPlaced", 8, "on_order_placed", "async", ""),
        ("orderPlaced", 9, "on_order_placed", "sync", "True"),
        ("orderPlaced", 10, "on_order_placed", "sync", "flag"),
        ("orderPlaced", 11, "on_order_placed", None, ""),
        ("recount", 12, "on_recount", "sync", ""),
        ("recount", 13, "on_recount", "async", "True"),
    ]
    jobs = [(u.name, u.kind, u.via, u.mode) for u in uses if u.file == "orders/jobs.py"]
    assert jobs == [
        ("orderPaid", "subscribe", "on", "sync"), ("orderSeen", "subscribe", "on", "sync"),
        ("orderFlagged", "subscribe", "on", "serial"), ("orderFlagged", "subscribe", "on", None),
        ("orderFlagged", "subscribe", "once", None), ("orderPaid", "emit", "emit", None),
    ]


def test_sync_subscriptions_across_the_wire_are_errors(tmp_path: Path, catalog: Catalog) -> None:
    write_code(tmp_path)
    uses, _ = scan_code([tmp_path], catalog, base=tmp_path)
    fix = ("and sync cannot be honoured across the wire; pass `remote=False` to keep this "
           "subscriber in-process, or subscribe with mode=\"async\" or mode=\"serial\"")
    assert lines(wire_sync_findings(uses, catalog)) == [
        "billing/handlers.py:5:5: error TID-D002 sync-subscriber-across-the-wire: "
        "on_order_placed(...) subscribes to event 'orderPlaced' in sync mode, but 'orderPlaced' "
        f"is distributed (context 'fraud' has transport nats), {fix}",
        "billing/handlers.py:6:5: error TID-D002 sync-subscriber-across-the-wire: "
        "on_order_placed(...) subscribes to event 'orderPlaced' in sync mode with remote=None, "
        f"but 'orderPlaced' is distributed (context 'fraud' has transport nats), {fix}",
        "billing/handlers.py:9:5: error TID-D002 sync-subscriber-across-the-wire: "
        "on_order_placed(...) subscribes to event 'orderPlaced' in sync mode with remote=True, "
        f"but 'orderPlaced' is distributed (context 'fraud' has transport nats), {fix}",
        "billing/handlers.py:13:5: error TID-D003 remote-subscriber-not-distributed: "
        "on_recount(...) subscribes to command 'recount' with remote=True, but 'recount' is not "
        "distributed: it never crosses the wire; drop `remote=True`, or declare it "
        "`distributed: true` in the catalog",
        "orders/jobs.py:2:5: error TID-D002 sync-subscriber-across-the-wire: on(...) subscribes "
        "to event 'orderPaid' in sync mode, but 'orderPaid' is distributed (declared "
        f"`distributed: true`), {fix}",
    ]


def test_nothing_crosses_the_wire_without_transport_or_declaration(tmp_path: Path) -> None:
    plain = CATALOG.replace(" {transport: nats}", " {}").replace(" {transport: sns-sqs}", " {}")
    plain = plain.replace("    distributed: true\n", "")
    catalog = load_catalog_texts({"shop.yaml": plain}, root="schemas")
    write_code(tmp_path)
    uses, _ = scan_code([tmp_path], catalog, base=tmp_path)
    assert distribution_findings(catalog) == []
    # No sync finding; only the remote=True subscriptions, now to in-process messages.
    assert [(f.rule.id, f.subject, f.line) for f in wire_sync_findings(uses, catalog)] == [
        ("TID-D003", "orderPlaced", 9), ("TID-D003", "recount", 13)]


def test_example_catalog_has_no_distribution_warning() -> None:
    catalog = load_catalog(ROOT / "schemas")
    assert [m.name for m in catalog.messages() if m.distributed] == [
        "METIS_AnalyzeDocumentCommand", "documentAnalyzed", "documentUploaded"]
    assert distribution_findings(catalog) == []


def test_run_check_reports_both_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "shop.yaml").write_text(CATALOG)
    write_code(tmp_path / "app")
    monkeypatch.chdir(tmp_path)
    catalog_only = run_check(CheckSettings(schemas=Path("schemas")))
    assert catalog_only.exit_code == 0  # warnings only
    assert sorted(f.subject or "" for f in catalog_only.findings
                  if f.rule.id == "TID-D001") == ["orderFlagged", "orderNoted", "orderPlaced"]
    with_code = run_check(CheckSettings(schemas=Path("schemas"), code=[Path("app")]))
    assert with_code.exit_code == 1
    assert [(f.file, f.line) for f in with_code.findings if f.rule.id.startswith("TID-D00")
            and f.rule.id != "TID-D001"] == [
        ("app/billing/handlers.py", 5), ("app/billing/handlers.py", 6),
        ("app/billing/handlers.py", 9), ("app/billing/handlers.py", 13), ("app/orders/jobs.py", 2)]


def test_cli_fail_on_and_github_format(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "shop.yaml").write_text(CATALOG)

    def check(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tidings", "check", *args], cwd=tmp_path,
                              env=GIT_ENV, capture_output=True, text=True, check=False)

    plain = check()
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "schemas/shop.yaml:10:3: warning TID-D001 distributed-compatibility-below-full:" in (
        plain.stdout)
    assert check("--fail-on", "warning").returncode == 1
    github = check("--format", "github").stdout.splitlines()
    assert ("::warning file=schemas/shop.yaml,line=10,col=3,title=TID-D001 "
            "distributed-compatibility-below-full::event 'orderPlaced' is distributed") in (
        "\n".join(github))
    write_code(tmp_path / "app")
    as_json = check("--code", "app", "--format", "json")
    assert as_json.returncode == 1
    doc = json.loads(as_json.stdout)
    errors = [(f["rule"], f["file"], f["line"]) for f in doc["findings"]
              if f["severity"] == "error" and f["rule"] != "TID-S004"]  # orders emits orderPaid
    assert errors == [("TID-D002", "app/billing/handlers.py", 5),
                      ("TID-D002", "app/billing/handlers.py", 6),
                      ("TID-D002", "app/billing/handlers.py", 9),
                      ("TID-D003", "app/billing/handlers.py", 13),
                      ("TID-D002", "app/orders/jobs.py", 2)]
    rules = check("--list-rules").stdout
    assert "TID-D001  distributed-compatibility-below-full" in rules
    assert "TID-D002  sync-subscriber-across-the-wire" in rules
    assert "TID-D003  remote-subscriber-not-distributed" in rules
