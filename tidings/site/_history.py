"""Each message's history from git: its distinct versions in the commits that touched the
catalog, newest first, with the checker's findings between consecutive ones; and the changes
since a ref (`--against`), for a pull request's preview."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tidings._errors import UserError
from tidings.catalog import Catalog, MessageDef
from tidings.checker import (
    Baseline,
    Finding,
    compare_catalogs,
    compare_message,
    load_git_baseline,
    load_git_history,
)


@dataclass(frozen=True)
class Commit:
    """A commit as the history shows it: short id, date (YYYY-MM-DD) and subject line."""

    sha: str
    date: str
    subject: str


@dataclass(frozen=True)
class Step:
    """One version of a message: where it was seen (`commit`, None for the working tree), its
    `version`, and the `findings` of the checker from the previous (older) step to this one
    (empty for the oldest recorded step)."""

    commit: Commit | None
    message: MessageDef
    findings: tuple[Finding, ...] = ()
    oldest: bool = False

    @property
    def breaking(self) -> bool:
        """True when a finding of this step is an error (breaks the message's mode)."""
        return any(f.severity.value == "error" for f in self.findings)


@dataclass
class History:
    """The history of every message (name -> steps, newest first); `available` is False when the
    catalog is not in a git repository; `skipped` labels versions that did not load."""

    steps: dict[str, list[Step]] = field(default_factory=dict)
    available: bool = True
    skipped: list[str] = field(default_factory=list)
    versions: int = 0


def _commits(catalog_dir: Path) -> dict[str, Commit] | None:
    try:
        done = subprocess.run(["git", "log", "--format=%H%x09%cs%x09%s", "--", "."], cwd=catalog_dir,
                              capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None
    if done.returncode != 0:
        return None
    out: dict[str, Commit] = {}
    for line in done.stdout.splitlines():
        sha, date, subject = [*line.split("\t", 2), "", ""][:3]
        out[sha[:10]] = Commit(sha[:10], date, subject)
    return out


def _steps(name: str, chain: Sequence[tuple[Commit | None, Catalog]]) -> list[Step]:
    seen: list[tuple[Commit | None, MessageDef]] = []
    for commit, catalog in chain:
        try:
            message = catalog.message(name)
        except KeyError:
            continue
        last = seen[-1][1] if seen else None
        if last is not None and (last.fingerprint, last.version, last.kind) == (
                message.fingerprint, message.version, message.kind):
            seen[-1] = (commit, message) if seen[-1][0] is None else seen[-1]
            continue
        seen.append((commit, message))
    steps: list[Step] = []
    for i, (commit, message) in enumerate(seen):
        if i + 1 < len(seen):
            older_commit, older = seen[i + 1]
            label = older_commit.sha if older_commit else "the working tree"
            found = tuple(compare_message(older, message, label))
            steps.append(Step(commit, message, found))
        else:
            steps.append(Step(commit, message, oldest=True))
    return steps


def load_history(catalog_dir: Path, catalog: Catalog) -> History:
    """The history of every message of `catalog` (loaded from `catalog_dir`, which may hold
    uncommitted changes: they are the newest step)."""
    commits = _commits(catalog_dir)
    if commits is None or not commits:
        return History(available=False)
    names = [m.name for m in catalog.messages()]
    try:
        head = load_git_baseline(catalog_dir, "HEAD")
        past, skipped = load_git_history(catalog_dir, "HEAD", only=names)
    except UserError:
        return History(available=False)
    head_commit = commits.get(next(iter(commits)))
    chain: list[tuple[Commit | None, Catalog]] = [(None, catalog)]
    if head.catalog is not None:
        chain.append((head_commit, head.catalog))
    for baseline in past:
        if baseline.catalog is not None:
            sha = baseline.label.rsplit("@", 1)[-1]
            chain.append((commits.get(sha, Commit(sha, "", "")), baseline.catalog))
    steps = {name: _steps(name, chain) for name in names}
    return History(steps, True, skipped, len(chain) - 1)


@dataclass(frozen=True)
class Changes:
    """What changed since `ref`: findings per message name (added, removed and changed
    messages), as `tidings check --against ref` reports them."""

    ref: str
    findings: dict[str, list[Finding]]

    def of(self, name: str) -> list[Finding]:
        """The findings about message `name` (empty when it did not change)."""
        return self.findings.get(name, [])


def load_changes(catalog_dir: Path, catalog: Catalog, ref: str) -> Changes:
    """The changes of `catalog` since git `ref`; `UserError` for an unknown ref."""
    baseline: Baseline = load_git_baseline(catalog_dir, ref)
    found: dict[str, list[Finding]] = {}
    for f in compare_catalogs(catalog, baseline):
        found.setdefault(f.subject or "", []).append(f)
    return Changes(ref, found)
