"""Writing the generated package: fast no-op path, atomic swap, and the `--check` comparison."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from tidings._errors import UserError
from tidings.catalog import catalog_files

MANIFEST = "_manifest.json"
"""The file in every generated package that records the input hash and each file's digest."""

_IGNORED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"})


@dataclass(frozen=True, slots=True)
class GenerateResult:
    """What one `generate` run did to `package` (paths relative to it, sorted)."""

    package: Path
    written: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    fast_path: bool = False
    """True when the stored input hash matched and nothing was rendered at all."""
    warnings: tuple[str, ...] = ()
    """One line each: the catalog's warnings (unknown keywords, formats) and the model
    generator's, in tidings' words (none on the fast path: nothing was read)."""

    @property
    def changed(self) -> bool:
        """Whether any file was written or removed."""
        return bool(self.written or self.removed)


@dataclass(frozen=True, slots=True)
class StaleFile:
    """One file of a generated package that `generate` would change."""

    path: Path
    reason: str  # "differs", "missing" or "not generated"

    def __str__(self) -> str:
        return f"{self.path.as_posix()} ({self.reason})"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def input_hash(schemas: Path, template_files: dict[str, bytes], settings: str = "") -> str:
    """A hash of everything the output depends on: the catalog files' bytes (every file
    `catalog_files` lists, schema files included), the templates, the `settings` text, and
    the versions and sources of tidings' generator and catalog loader and of
    datamodel-code-generator. Equal hashes mean equal output."""
    h = hashlib.sha256(b"tidings-generate-1\0")
    h.update(f"settings:{settings}\0".encode())
    h.update(f"{_version('tidings')}\0{_version('datamodel-code-generator')}\0".encode())
    tidings_root = Path(__file__).resolve().parent.parent
    for package in ("generator", "catalog", "_errors.py", "_json.py"):
        root = tidings_root / package
        sources = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for source in sources:
            if source.is_file():
                h.update(f"tool:{source.relative_to(tidings_root).as_posix()}\0".encode())
                h.update(_digest(source.read_bytes()).encode())
    for path in catalog_files(schemas):
        shown = path.name if schemas.is_file() else path.relative_to(schemas).as_posix()
        h.update(f"schema:{shown}\0".encode())
        h.update(_digest(path.read_bytes()).encode())
    for name, data in sorted(template_files.items()):
        h.update(f"template:{name}\0".encode())
        h.update(_digest(data).encode())
    return h.hexdigest()


def manifest_text(inputs: str, files: dict[str, str]) -> str:
    """The manifest: the input hash and the sha256 of every other generated file."""
    data = {
        "generator": "tidings generate",
        "inputs": inputs,
        "files": {name: _digest(text.encode()) for name, text in sorted(files.items())},
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _disk_files(package: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if not package.is_dir():
        return found
    for root, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS)
        for name in names:
            if name.endswith((".pyc", ".pyo")):
                continue
            path = Path(root, name)
            found[path.relative_to(package).as_posix()] = path
    return found


def fresh_by_manifest(out: Path, inputs: str) -> Path | None:
    """The package under `out` whose manifest records `inputs` and whose files all still match
    their recorded digests (and no others exist), or None: the no-op fast path."""
    if not out.is_dir():
        return None
    for manifest in sorted(out.glob(f"*/{MANIFEST}")):
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("inputs") != inputs:
            continue
        recorded = data.get("files")
        if not isinstance(recorded, dict):
            continue
        package = manifest.parent
        disk = _disk_files(package)
        if set(disk) != {*recorded, MANIFEST}:
            continue
        if all(_digest(disk[name].read_bytes()) == digest for name, digest in recorded.items()):
            return package
    return None


def _differences(
    package: Path, files: dict[str, str], *, ignore_inputs: bool = False
) -> tuple[list[str], list[str], list[str]]:
    """(changed, missing, extra) relative paths of `package` against the wanted `files`."""
    disk = _disk_files(package)
    changed: list[str] = []
    missing: list[str] = []
    for name, text in files.items():
        path = disk.get(name)
        if path is None:
            missing.append(name)
            continue
        data = path.read_bytes()
        wanted = text.encode()
        if data == wanted:
            continue
        if ignore_inputs and name == MANIFEST and _same_files_part(data, wanted):
            continue
        changed.append(name)
    extra = sorted(set(disk) - set(files))
    return changed, missing, extra


def _same_files_part(old: bytes, new: bytes) -> bool:
    try:
        return bool(json.loads(old).get("files") == json.loads(new).get("files"))
    except (ValueError, AttributeError):
        return False


def stale_files(package: Path, files: dict[str, str]) -> list[StaleFile]:
    """What `write_package(package, files)` would change, for `--check`. A manifest whose only
    difference is the input hash (e.g. a catalog comment changed) is not stale."""
    changed, missing, extra = _differences(package, files, ignore_inputs=True)
    stale = [StaleFile(package / n, "differs") for n in changed]
    stale += [StaleFile(package / n, "missing") for n in missing]
    stale += [StaleFile(package / n, "not generated") for n in extra]
    return sorted(stale, key=lambda s: s.path.as_posix())


def write_package(package: Path, files: dict[str, str]) -> GenerateResult:
    """Make `package` hold exactly `files`, atomically: nothing is touched when nothing differs;
    otherwise the new tree is built beside it (unchanged files hard-linked, so they are not
    rewritten) and swapped in with two renames. A failure leaves the old package as it was."""
    changed, missing, extra = _differences(package, files)
    if not (changed or missing or extra):
        return GenerateResult(package)
    package.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{package.name}.new-", dir=package.parent))
    try:
        staging.chmod(package.stat().st_mode & 0o777 if package.is_dir() else 0o755)
        for name, text in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            old = package / name
            if name not in changed and name not in missing:
                try:
                    os.link(old, target)
                    continue
                except OSError:
                    pass
            target.write_text(text, encoding="utf-8", newline="\n")
        retired: Path | None = None
        if package.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{package.name}.old-", dir=package.parent))
            retired.rmdir()
            package.rename(retired)
        try:
            staging.rename(package)
        except OSError:
            if retired is not None:
                retired.rename(package)
            raise
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    except OSError as exc:
        raise UserError(f"could not write {package}: {exc}") from None
    finally:
        with contextlib.suppress(OSError):
            if staging.exists():
                shutil.rmtree(staging)
    return GenerateResult(
        package, written=tuple(sorted(changed + missing)), removed=tuple(extra)
    )
