"""Resolve every `$ref` of the catalog with `referencing` and bundle payloads self-contained."""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urldefrag, urljoin

from referencing import Registry
from referencing.exceptions import NoSuchAnchor, NoSuchResource, PointerToNowhere, Unresolvable
from referencing.jsonschema import DRAFT202012

from tidings.catalog._issues import CatalogIssue
from tidings.catalog._keywords import SCHEMA_ARRAYS, SCHEMA_MAPS, SCHEMA_VALUED, json_pointer
from tidings.catalog._structure import dotted
from tidings.catalog._yaml import ParsedFile, Path

_FIX = (
    "a $ref must point at an entry of a catalog file's top-level `$defs` "
    "(`#/$defs/Money`, `common.yaml#/$defs/Money`) or at a message payload"
)


def file_uri(key: str) -> str:
    """The URI a catalog file is registered under (its key is the path relative to the root)."""
    return "file:///" + quote(key.lstrip("/"))


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars), much faster than `copy.deepcopy`."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def _key_of(uri: str) -> str:
    return unquote(uri.removeprefix("file:///"))


@dataclass
class Target:
    """A place a `$ref` may point at: a shared definition or a message payload."""

    name: str
    key: str
    path: Path
    schema: dict[str, Any]


@dataclass
class Bundler:
    """Holds the registry of every file and rewrites schemas to `#/$defs/<Name>` refs."""

    files: Mapping[str, ParsedFile]
    targets: list[Target]
    broken: set[str] = field(default_factory=set)
    issues: list[CatalogIssue] = field(default_factory=list)
    rewritten: dict[str, dict[str, Any]] = field(default_factory=dict)
    refs: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.registry: Registry[Any] = Registry().with_resources(
            (file_uri(key), DRAFT202012.create_resource(parsed.data))
            for key, parsed in self.files.items()
        )
        self.by_identity = {id(t.schema): t for t in self.targets}
        self._outcomes: dict[tuple[str, str], tuple[str | None, str | None]] = {}

    def run(self) -> None:
        """Rewrite every target, recording issues for refs that cannot be bundled."""
        for target in self.targets:
            self.rewritten[target.name], self.refs[target.name] = self._rewrite(target)

    def closure(self, name: str) -> dict[str, Any]:
        """The `$defs` a self-contained copy of target `name` needs (sorted by name)."""
        seen: set[str] = set()
        stack = sorted(self.refs.get(name, ()))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(sorted(self.refs.get(current, ())))
        return {n: copy_json(self.rewritten[n]) for n in sorted(seen)}

    def _rewrite(self, target: Target) -> tuple[dict[str, Any], set[str]]:
        """A copy of the target's schema with its `$ref`s rewritten, made in one walk."""
        names: set[str] = set()
        # a `$defs` entry may be no mapping at all (reported by the format check): copied as is
        rewritten: dict[str, Any] = self._walk(target, names, target.schema, ())
        return rewritten, names

    # Plain methods, not nested closures: closures that call each other form a reference cycle
    # that would keep every parsed file alive until the cyclic garbage collector runs.
    def _schema(
        self, target: Target, names: set[str], node: dict[str, Any], parts: Path
    ) -> dict[str, Any]:
        rewritten = self._target_of(target, parts, node["$ref"]) if "$ref" in node else None
        if rewritten is not None:
            names.add(rewritten)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and rewritten is not None:
                out[key] = f"#/$defs/{rewritten}"
            elif key in SCHEMA_VALUED:
                out[key] = self._walk(target, names, value, (*parts, key))
            elif key in SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {
                    n: self._walk(target, names, v, (*parts, key, n)) for n, v in value.items()
                }
            elif key in SCHEMA_ARRAYS and isinstance(value, list):
                out[key] = [
                    self._walk(target, names, v, (*parts, key, i)) for i, v in enumerate(value)
                ]
            else:
                out[key] = copy_json(value)
        return out

    def _walk(self, target: Target, names: set[str], value: Any, parts: Path) -> Any:
        if isinstance(value, dict):
            return self._schema(target, names, value, parts)
        return copy_json(value)

    def _target_of(self, target: Target, parts: Path, ref: Any) -> str | None:
        """The bundled name `ref` (written at `parts` of `target`) points at, or None after
        recording why it cannot be bundled. Outcomes are cached per (file, ref): every `$ref` of
        a file resolves against the file's own URI."""
        if not isinstance(ref, str):
            return None  # the meta-schema check reports it
        cache_key = (target.key, ref)
        if cache_key not in self._outcomes:
            self._outcomes[cache_key] = self._outcome(target.key, ref)
        found, message = self._outcomes[cache_key]
        if message is not None:
            where = (*target.path, *parts, "$ref")
            self._issue(self.files[target.key], target.path, where, message)
        return found

    def _outcome(self, key: str, ref: str) -> tuple[str | None, str | None]:
        resolver = self.registry.resolver(base_uri=file_uri(key))
        try:
            resolved = resolver.lookup(ref)
        except Unresolvable as exc:
            return None, self._unresolvable(key, ref, exc)
        except Exception as exc:  # a malformed schema elsewhere; reported by other checks
            return None, f"cannot resolve $ref {ref!r}: {exc}"
        found = self.by_identity.get(id(resolved.contents))
        if found is None:
            return None, f"$ref {ref!r} is not bundled; {_FIX}"
        return found.name, None

    def _issue(self, parsed: ParsedFile, base: Path, where: Path, message: str) -> None:
        self.issues.append(
            CatalogIssue(
                location=parsed.location(where),
                path=dotted(base),
                pointer=json_pointer(where[len(base):]),
                message=message,
            )
        )

    def _unresolvable(self, key: str, ref: str, exc: Unresolvable) -> str | None:
        """Why `ref` fails, or None when it points into a file that did not parse."""
        base = file_uri(key)
        uri, fragment = urldefrag(urljoin(base, ref))
        if not uri.startswith("file:///"):
            return (
                f"cannot resolve $ref {ref!r}: tidings never fetches remote schemas; copy the "
                "definition into the `$defs` of a catalog file"
            )
        other = _key_of(uri)
        if other in self.broken:
            return None
        if not other or uri.endswith("/"):
            return (
                f"cannot resolve $ref {ref!r}: it names a folder, not a catalog file; write "
                "'FILE.yaml#/$defs/NAME' relative to this file"
            )
        if isinstance(exc, NoSuchResource) or other not in self.files:
            rel = posixpath.relpath(other, posixpath.dirname(key) or ".")
            names = [posixpath.relpath(k, posixpath.dirname(key) or ".") for k in self.files]
            close = difflib.get_close_matches(rel, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return (
                f"cannot resolve $ref {ref!r}: there is no catalog file {rel!r}{hint}; "
                "refer to a file of the catalog, relative to this one"
            )
        if isinstance(exc, PointerToNowhere | NoSuchAnchor):
            data = self.files[other].data
            defs = data.get("$defs") if isinstance(data, dict) else None
            choices = sorted(defs) if isinstance(defs, dict) else []
            wanted = fragment.rsplit("/", 1)[-1]
            close = difflib.get_close_matches(wanted, choices, n=1)
            file_part = ref.split("#", 1)[0]  # a cross-file ref keeps its file in the fix
            hint = f" (did you mean '{file_part}#/$defs/{close[0]}'?)" if close else ""
            where = "this file" if other == key else repr(posixpath.basename(other))
            available = ", ".join(choices) if choices else "none"
            return (
                f"cannot resolve $ref {ref!r}: {where} has nothing at {fragment!r}{hint}; "
                f"its $defs are: {available}"
            )
        return f"cannot resolve $ref {ref!r}: {exc}"  # pragma: no cover


__all__ = ["Bundler", "Target", "file_uri"]
