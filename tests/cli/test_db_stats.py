"""`tidings db stats` as a real subprocess, on a real SQLite file and a real PostgreSQL schema:
the counts after a known run, as a table and as JSON, read-only, and one-line errors (exit 2)."""

from __future__ import annotations

import json

from tests.cli.conftest import Project

SHIPPED = '{"parcelRef": "P-1"}'
LABEL = '{"parcelRef": "P-1", "printer": "front"}'


def test_db_stats_counts_a_known_run(project: Project) -> None:
    for ref in ("P-1", "P-2"):
        shipped = project.tidings("emit", "parcelShipped", f'{{"parcelRef": "{ref}"}}', "--wait", "30")
        assert shipped.returncode == 0, shipped.stderr
    dead = project.tidings("emit", "printLabel", LABEL, "--wait", "30", env={"PRINTER_JAM": "1"})
    assert dead.returncode == 1 and "dead" in dead.stdout, dead.stdout + dead.stderr

    shown = project.tidings("db", "stats", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    stats = json.loads(shown.stdout)
    assert stats["messages"] == 3
    assert stats["deliveries"] == {"pending": 0, "running": 0, "succeeded": 2, "failed": 0, "dead": 1}
    assert stats["outbox"] == {} and stats["oldest_pending"] is None
    assert stats["oldest_pending_age_seconds"] is None

    table = project.tidings("db", "stats")
    assert table.returncode == 0, table.stderr
    lines = [line.split() for line in table.stdout.splitlines()]
    assert ["messages", "3"] in lines and ["succeeded", "2"] in lines and ["dead", "1"] in lines
    assert ["oldest", "open", "delivery", "-"] in lines

    # A delivery still open: billing is down, so it waits for its retry.
    failing = project.tidings("emit", "parcelShipped", SHIPPED, "--wait", "0", env={"BILLING_DOWN": "1"})
    assert failing.returncode == 1, failing.stdout + failing.stderr
    stats = json.loads(project.tidings("db", "stats", "--format", "json").stdout)
    assert stats["messages"] == 4 and stats["deliveries"]["succeeded"] == 2
    assert stats["deliveries"]["failed"] + stats["deliveries"]["running"] == 1
    assert stats["oldest_pending"] is not None and stats["oldest_pending_age_seconds"] >= 0


def test_db_stats_errors_are_one_line(project: Project) -> None:
    if project.kind == "sqlite":
        missing = project.tidings("db", "stats", "--db", "nothere.db")
        assert missing.returncode == 2 and "tidings db upgrade" in missing.stderr
        assert not (project.root / "nothere.db").exists()
    else:
        missing = project.tidings("db", "stats", "--db", project.db + "_absent")
        assert missing.returncode == 2 and "tidings db upgrade" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    bad = project.tidings("db", "stats", "--format", "yaml")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    url = project.tidings("db", "stats", "--db", "mysql://db/events")
    assert url.returncode == 2 and "unknown store URL" in url.stderr

