"""Baselines to compare against: the catalog at a git ref, every earlier version of it in git
history, or a catalog directory on disk. Git is driven through subprocess (`git ls-tree`,
`git cat-file --batch`, `git log`): no library, nothing imported from the user's repository."""

from __future__ import annotations

import posixpath
import re
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tidings._errors import UserError
from tidings._json import canonical_json
from tidings.catalog import (
    Catalog,
    CatalogError,
    is_catalog_document,
    is_catalog_path,
    load_catalog,
    load_catalog_texts,
)
from tidings.checker._yaml_split import SplitFile, digest, split_file


@dataclass(frozen=True)
class MessageStub:
    """What lineage checks need of a baseline message that was not loaded in full."""

    name: str
    kind: str
    version: int
    file: str
    line: int


@dataclass(frozen=True)
class Baseline:
    """A catalog to compare with: `label` names it in findings (``main``, ``main@1a2b3c4``, a
    path); `catalog` is None when the catalog did not exist there yet.

    When `index` is set, `catalog` holds only the messages whose kind, version or payload differ
    from the current catalog's; `index` lists every message of the files whose text changed, and
    `unchanged_files` (paths as shown) the files whose text is the same as now: their messages
    are unchanged."""

    label: str
    catalog: Catalog | None
    index: dict[str, MessageStub] | None = None
    unchanged_files: frozenset[str] = frozenset()


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
        rel = posixpath.relpath(path, prefix) if prefix else path
        if kind != "blob" or rel.startswith("..") or not is_catalog_path(rel):
            continue
        files[rel] = blob
    return files


def _load(files: dict[str, str], blobs: _Blobs, prefix: str) -> Catalog:
    texts = blobs.read(list(files.values()))
    return load_catalog_texts({rel: texts[b] for rel, b in files.items()}, root=prefix)


def load_git_baseline(
    catalog_dir: Path, ref: str, *, current: Mapping[str, str] | None = None
) -> Baseline:
    """The catalog as it was at git `ref` (a branch, tag or commit).

    With `current` (the current catalog's files: path relative to the catalog dir -> text), only
    the messages whose kind, version, payload or shared definitions differ are loaded in full;
    `Baseline.index` lists them all. Raises `UserError` for an unknown ref, or when the catalog
    at that ref does not load."""
    top, prefix = _repo_prefix(catalog_dir)
    commit = _commit(top, ref)
    files = _tree_files(top, commit, prefix)
    if not files:
        return Baseline(ref, None)
    contents = _Blobs(top).read(list(files.values()))
    texts = {rel: contents[blob] for rel, blob in files.items()}
    index: dict[str, MessageStub] | None = None
    unchanged: frozenset[str] = frozenset()
    if current is not None:
        pruned = _prune_against(texts, current, prefix)
        if pruned is not None:
            texts, index, unchanged = pruned
    try:
        if index is not None:
            try:
                return Baseline(ref, load_catalog_texts(texts, root=prefix), index, unchanged)
            except CatalogError:
                pass  # the pruned texts did not load: load the baseline as it is
        full = {rel: contents[blob] for rel, blob in files.items()}
        return Baseline(ref, load_catalog_texts(full, root=prefix))
    except CatalogError as exc:
        raise UserError(
            f"the baseline catalog at {ref} ({commit[:10]}) does not load, so nothing can be "
            f"compared with it; fix it there or pick another --against:\n{exc}"
        ) from exc


_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YamlDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SECTIONS = ("events", "commands")


_canon = canonical_json


def _version(body: Any) -> int:
    v = body.get("version", 1) if isinstance(body, dict) else 1
    return v if isinstance(v, int) else 1


_KEY_LINE = re.compile(r"""^\s*(["']?)([^"'\s:#][^"':]*)\1\s*:""")


def _key_lines(text: str) -> dict[str, int]:
    """First line (1-based) of every `key:` in a YAML text, for locating removed messages."""
    lines: dict[str, int] = {}
    for i, line in enumerate(text.splitlines(), 1):
        m = _KEY_LINE.match(line)
        if m:
            lines.setdefault(m.group(2), i)
    return lines


def _prune_against_as_text(
    texts: dict[str, str], current: Mapping[str, str], differing: list[str], prefix: str
) -> tuple[dict[str, str], dict[str, MessageStub]] | None:
    """`_prune_against` on text: entries compared as written; None when a changed file is not
    plain block-style YAML, or when anything but its messages changed."""
    if any((rel in texts) != (rel in current) for rel in differing):
        return None
    base: dict[str, SplitFile] = {}
    now: dict[str, SplitFile] = {}
    for rel in differing:
        b, n = split_file(texts[rel]), split_file(current[rel])
        if b is None or n is None or b.frame != n.frame:
            return None
        base[rel], now[rel] = b, n
    now_entries = {(e.section, e.name): e.text for f in now.values() for e in f.entries}
    keep: set[tuple[str, str]] = set()
    index: dict[str, MessageStub] = {}
    out = dict(texts)
    for rel, split in base.items():
        shown = posixpath.join(prefix, rel) if prefix else rel
        for e in split.entries:
            index[e.name] = MessageStub(e.name, e.section[:-1], e.version, shown, e.line)
            if now_entries.get((e.section, e.name)) != e.text:
                keep.add((e.section, e.name))
        out[rel] = split.rebuild(keep)
    for rel in texts:
        if rel not in differing:
            out[rel] = _strip_messages(texts[rel])
    return out, index


def _prune_against(
    texts: dict[str, str], current: Mapping[str, str], prefix: str
) -> tuple[dict[str, str], dict[str, MessageStub], frozenset[str]] | None:
    """Keep, of the baseline `texts`, only the messages that differ from `current`; None when
    that cannot be decided cheaply (shared definitions changed, a file does not parse)."""
    differing = sorted(rel for rel in set(texts) | set(current) if texts.get(rel) != current.get(rel))
    unchanged = frozenset(posixpath.join(prefix, rel) if prefix else rel
                          for rel in texts if rel not in differing)
    quick = _prune_against_as_text(texts, current, differing, prefix)
    if quick is not None:
        return quick[0], quick[1], unchanged
    base = _parse({rel: texts[rel] for rel in differing if rel in texts})
    now = _parse({rel: current[rel] for rel in differing if rel in current})
    if base is None or now is None:
        return None
    if any(_canon((base.get(rel) or {}).get("$defs")) != _canon((now.get(rel) or {}).get("$defs"))
           for rel in differing):
        return None
    now_sigs = {(section, name): _canon([_version(body), _payload(body)])
                for data in now.values() for section, name, body in _bodies(data)}
    keep: set[tuple[str, str]] = set()
    index: dict[str, MessageStub] = {}
    for rel, data in base.items():
        lines = _key_lines(texts[rel])
        for section, name, body in _bodies(data):
            shown = posixpath.join(prefix, rel) if prefix else rel
            index[name] = MessageStub(name, section[:-1], _version(body), shown, lines.get(name, 0))
            if now_sigs.get((section, name)) != _canon([_version(body), _payload(body)]):
                keep.add((section, name))
    out = dict(texts)
    out.update(_rebuild(base, keep))
    # Files whose text did not change keep no message: theirs are unchanged by construction.
    for rel in texts:
        if rel not in differing:
            out[rel] = _strip_messages(texts[rel])
    return out, index, unchanged


_TOP_KEY = re.compile(r"^[^\s#-]")
_MESSAGE_BLOCK = re.compile(r"^(events|commands)\s*:")


def _strip_messages(text: str) -> str:
    """The YAML text without its top-level `events:` and `commands:` blocks (block style: a
    top-level key and the lines indented under it), so that unchanged files load cheaply. If
    the result does not load, the caller's load fails and the check falls back to a full load."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines(keepends=True):
        if _TOP_KEY.match(line):
            skipping = bool(_MESSAGE_BLOCK.match(line))
            if skipping:
                out.append(f"{line.split(':', 1)[0].rstrip()}: {{}}\n")
                continue
        if not skipping:
            out.append(line)
    return "".join(out)


def _payload(body: Any) -> Any:
    return body.get("payload") if isinstance(body, dict) else None


def _bodies(data: dict[str, Any]) -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    for section in _SECTIONS:
        messages = data.get(section)
        if isinstance(messages, dict):
            out.extend((section, str(name), body) for name, body in messages.items())
    return out


def _parse(
    texts: Mapping[str, str], cache: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]] | None:
    """Each file's YAML data, or None when one does not parse as a mapping (the catalog
    loader then reports it properly). `cache` (text -> data) spares re-parsing the files that
    did not change between two versions; the data is never mutated."""
    parsed: dict[str, dict[str, Any]] = {}
    for rel, text in texts.items():
        if cache is not None and text in cache:
            data = cache[text]
        else:
            try:
                data = yaml.load(text, Loader=_YamlLoader)  # a safe loader (CSafeLoader)
            except yaml.YAMLError:
                data = None
            if cache is not None:
                cache[text] = data
        if not isinstance(data, dict):
            return None
        parsed[rel] = data
    return parsed


def _messages(parsed: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(file, section, name, signature) per message; equal signatures mean an equal kind,
    version and resolved payload (the signature covers every file's `$defs`)."""
    defs = _canon({rel: data.get("$defs") if is_catalog_document(rel, data) else data
                   for rel, data in parsed.items()})
    out: list[tuple[str, str, str, str]] = []
    for rel, data in parsed.items():
        for section in _SECTIONS:
            messages = data.get(section)
            if not isinstance(messages, dict):
                continue
            for name, body in messages.items():
                payload = body.get("payload") if isinstance(body, dict) else None
                out.append((rel, section, str(name),
                            _canon([section, name, _version(body), payload, defs])))
    return out


def _rebuild(parsed: dict[str, dict[str, Any]], keep: set[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for rel, data in parsed.items():
        data = dict(data)
        for section in _SECTIONS:
            if isinstance(data.get(section), dict):
                data[section] = {n: b for n, b in data[section].items() if (section, n) in keep}
        out[rel] = yaml.dump(data, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True)
    return out


def _split_cached(text: str, cache: dict[str, Any]) -> SplitFile | None:
    key = "split\0" + text
    if key not in cache:
        cache[key] = split_file(text)
    result: SplitFile | None = cache[key]
    return result


def _prune(
    texts: dict[str, str], only: Collection[str], seen: set[str], cache: dict[str, Any]
) -> dict[str, str] | None:
    """The catalog files with only the messages in `only` whose signature was not seen (in a
    newer version); None when no message is new. Files that do not parse are returned
    untouched (the loader then rejects the version)."""
    splits = {rel: _split_cached(text, cache) for rel, text in texts.items()}
    if all(split is not None for split in splits.values()):
        frames = digest(*(f"{rel}\0{split.frame}" for rel, split in sorted(splits.items())
                          if split is not None))
        keep_text: set[tuple[str, str]] = set()
        for split in splits.values():
            assert split is not None
            for e in split.entries:
                sig = digest(frames, e.section, e.name, e.text)
                if e.name in only and sig not in seen:
                    seen.add(sig)
                    keep_text.add((e.section, e.name))
        if not keep_text:
            return None
        return {rel: split.rebuild(keep_text) for rel, split in splits.items() if split}
    parsed = _parse(texts, cache)
    if parsed is None:
        return texts
    keep: set[tuple[str, str]] = set()
    for _, section, name, sig in _messages(parsed):
        if name in only and sig not in seen:
            seen.add(sig)
            keep.add((section, name))
    return _rebuild(parsed, keep) if keep else None


def load_git_history(
    catalog_dir: Path, ref: str, *, only: Collection[str] | None = None
) -> tuple[list[Baseline], list[str]]:
    """Every distinct earlier version of the catalog in the history of `ref` (newest first,
    the version at `ref` itself excluded: it is the baseline), for the _TRANSITIVE modes, and the
    labels of versions skipped because they did not load.

    With `only` (message names), each version keeps just those messages whose payload differs
    from every newer version's, so that a long history loads what changed, not the whole catalog
    again; versions with nothing new are left out."""
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
    head_files = _tree_files(top, commit, prefix)
    seen: set[tuple[tuple[str, str], ...]] = {tuple(sorted(head_files.items()))}
    seen_messages: set[str] = set()
    parsed: dict[str, Any] = {}
    out: list[Baseline] = []
    skipped: list[str] = []
    trees = [(c, _tree_files(top, c, prefix)) for c in commits]
    blobs.read([b for files in [head_files, *(f for _, f in trees)] for b in files.values()])
    if only is not None and head_files:
        _prune({rel: blobs.cache[b] for rel, b in head_files.items()}, only, seen_messages, parsed)
    for c, files in trees:
        key = tuple(sorted(files.items()))
        if not files or key in seen:
            continue
        seen.add(key)
        label = f"{ref}@{c[:10]}"
        texts = {rel: blobs.cache[b] for rel, b in files.items()}
        if only is not None:
            pruned = _prune(texts, only, seen_messages, parsed)
            if pruned is None:
                continue
            texts = pruned
        try:
            out.append(Baseline(label, load_catalog_texts(texts, root=prefix)))
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
