"""The text-level splitter that prunes baselines: exact round trips, and giving up when unsure."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tidings.checker._yaml_split import split_file

from ._repo import base

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", [
    *(p.read_text() for p in sorted((ROOT / "schemas").glob("*.yaml"))),
    yaml.safe_dump(base(), sort_keys=False),
])
def test_round_trip_and_strip(text: str) -> None:
    split = split_file(text)
    assert split is not None
    everything = {(e.section, e.name) for e in split.entries}
    assert split.rebuild(everything) == text
    stripped = yaml.safe_load(split.rebuild(set()))
    full = yaml.safe_load(text)
    for section in ("events", "commands"):
        if section in full:
            assert stripped[section] == {}
    assert {k: v for k, v in stripped.items() if k not in ("events", "commands")} == {
        k: v for k, v in full.items() if k not in ("events", "commands")}
    # Each entry alone parses to the same message as in the full file.
    for e in split.entries:
        one = yaml.safe_load(split.rebuild({(e.section, e.name)}))
        assert one[e.section] == {e.name: full[e.section][e.name]}


def test_entries_carry_line_and_version() -> None:
    text = "catalog: x\nevents:\n  a:\n    version: 3\n    payload: {}\n  'b c':\n    payload: {}\n"
    split = split_file(text)
    assert split is not None
    assert [(e.name, e.line, e.version) for e in split.entries] == [("a", 3, 3), ("b c", 6, 1)]


@pytest.mark.parametrize("text", [
    "events: {a: {payload: {}}}\n",                      # flow style
    "events:\n\ta:\n\t\tpayload: {}\n",                   # tabs
    "x: &base {type: string}\nevents:\n  a:\n    payload: *base\n",  # anchors
    "---\nevents:\n  a: {}\n",                           # document markers
    "events:\n    a: {}\n  b: {}\n",                     # odd indentation
    "events:\n  a: {}\n  a: {}\n",                       # duplicate keys
])
def test_gives_up_when_unsure(text: str) -> None:
    assert split_file(text) is None
