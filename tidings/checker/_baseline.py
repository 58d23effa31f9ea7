"""Baselines to compare against: the catalog at a git ref, every earlier version of it in git
history, or a catalog directory on disk. Git is driven through subprocess (`git ls-tree`,
`git cat-file --batch`, `git log`): no library, nothing imported from the user's repository."""

from __future__ import annotations

import posixpath
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tidings._errors import UserError
from tidings.catalog import Catalog, CatalogError, load_catalog, load_catalog_texts


@dataclass(frozen=True)
class Baseline:
    """A catalog to compare with: `label` names it in findings (``main``, ``main@1a2b3c4``, a
    path); `catalog` is None when the catalog did not exist there yet."""

    label: str
    catalog: Catalog | None


def _git(args: list[str], cwd: Path, *, input_: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, input=input_, capture_output=True, check=False
        )
    except FileNotFoundError as exc:
        raise UserError("git is not installed or not on PATH; install git to use --against REF") from exc


def _repo_prefix(catalog_dir: Path) -> tuple[Path, str]:
    """The work tree root holding `catalog_dir`, and the catalog's path inside it (posix)."""
    start = catalog_dir if catalog_dir.is_dir() else catalog_dir.parent
    if not start.exists():
        raise UserError(f"{catalog_dir}: no such catalog directory; pass --catalog DIR")
    result = _git(["rev-parse", "--show-toplevel"], start)
    if result.returncode != 0:
        raise UserError(
            f"{catalog_dir} is not inside a git repository, so --against cannot name a git ref; "
            "run inside the repository, or pass --against PATH (a directory holding the old catalog)"
        )
    top = Path(result.stdout.decode().strip()).resolve()
    prefix = catalog_dir.resolve().relative_to(top).as_posix()
    return top, "" if prefix == "." else prefix


def _commit(top: Path, ref: str) -> str:
    result = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], top)
    if result.returncode != 0 or not result.stdout.strip():
        raise UserError(
            f"--against {ref}: no such git ref or path; name a branch, tag or commit "
            "(e.g. origin/main, fetched with `git fetch`), or an existing directory"
        )
    return result.stdout.decode().strip()


class _Blobs:
    """Reads blobs through one `git cat-file --batch` call per batch, cached by blob id."""

    def __init__(self, top: Path) -> None:
        self.top = top
        self.cache: dict[str, str] = {}

    def read(self, ids: list[str]) -> dict[str, str]:
        missing = sorted({i for i in ids if i not in self.cache})
        if missing:
            batch = "".join(f"{i}\n" for i in missing).encode()
            result = _git(["cat-file", "--batch"], self.top, input_=batch)
            if result.returncode != 0:
                raise UserError(f"git cat-file failed: {result.stderr.decode().strip()}")
            out = result.stdout
            pos = 0
            for blob_id in missing:
                nl = out.index(b"\n", pos)
                header = out[pos:nl].split()
                size = int(header[2])
                body = out[nl + 1: nl + 1 + size]
                pos = nl + 1 + size + 1
                self.cache[blob_id] = body.decode("utf-8", errors="replace")
        return {i: self.cache[i] for i in ids}


def _tree_files(top: Path, commit: str, prefix: str) -> dict[str, str]:
    """Catalog files at `commit`: path relative to the catalog dir -> blob id."""
    args = ["ls-tree", "-r", "-z", commit]
    if prefix:
        args += ["--", prefix]
    result = _git(args, top)
    if result.returncode != 0:
        raise UserError(f"git ls-tree {commit}: {result.stderr.decode().strip()}")
    files: dict[str, str] = {}
    for entry in result.stdout.decode().split("\0"):
        if not entry:
            continue
        meta, path = entry.split("\t", 1)
        _mode, kind, blob = meta.split()
        if kind != "blob" or not path.endswith((".yaml", ".yml")):
            continue
        rel = posixpath.relpath(path, prefix) if prefix else path
        if rel.startswith("..") or any(part.startswith(".") for part in rel.split("/")):
            continue
        files[rel] = blob
    return files


def _load(files: dict[str, str], blobs: _Blobs, prefix: str) -> Catalog:
    texts = blobs.read(list(files.values()))
    return load_catalog_texts({rel: texts[b] for rel, b in files.items()}, root=prefix)


def load_git_baseline(catalog_dir: Path, ref: str) -> Baseline:
    """The catalog as it was at git `ref` (a branch, tag or commit).

    Raises `UserError` for an unknown ref, or when the catalog at that ref does not load."""
    top, prefix = _repo_prefix(catalog_dir)
    commit = _commit(top, ref)
    files = _tree_files(top, commit, prefix)
    if not files:
        return Baseline(ref, None)
    try:
        return Baseline(ref, _load(files, _Blobs(top), prefix))
    except CatalogError as exc:
        raise UserError(
            f"the baseline catalog at {ref} ({commit[:10]}) does not load, so nothing can be "
            f"compared with it; fix it there or pick another --against:\n{exc}"
        ) from exc


def load_git_history(catalog_dir: Path, ref: str) -> tuple[list[Baseline], list[str]]:
    """Every distinct version of the catalog in the history of `ref` (newest first), for the
    _TRANSITIVE modes, and the labels of versions skipped because they did not load."""
    top, prefix = _repo_prefix(catalog_dir)
    commit = _commit(top, ref)
    args = ["log", "--format=%H", commit]
    if prefix:
        args += ["--", prefix]
    result = _git(args, top)
    if result.returncode != 0:
        raise UserError(f"git log {ref}: {result.stderr.decode().strip()}")
    commits = [c for c in result.stdout.decode().split() if c]
    blobs = _Blobs(top)
    seen: set[tuple[tuple[str, str], ...]] = set()
    out: list[Baseline] = []
    skipped: list[str] = []
    trees = [(c, _tree_files(top, c, prefix)) for c in commits]
    blobs.read([b for _, files in trees for b in files.values()])
    for c, files in trees:
        key = tuple(sorted(files.items()))
        if not files or key in seen:
            continue
        seen.add(key)
        label = f"{ref}@{c[:10]}"
        try:
            out.append(Baseline(label, _load(files, blobs, prefix)))
        except CatalogError:
            skipped.append(label)
    return out, skipped


def load_path_baseline(path: Path) -> Baseline:
    """A catalog directory (or file) on disk as the baseline. Raises `UserError` if it does not load."""
    try:
        return Baseline(path.as_posix(), load_catalog(path))
    except CatalogError as exc:
        raise UserError(
            f"the baseline catalog at {path} does not load, so nothing can be compared with it:\n{exc}"
        ) from exc
