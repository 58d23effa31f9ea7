"""Resolve every `$ref` of the catalog with `referencing` and bundle payloads self-contained."""

from __future__ import annotations

import copy
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
from tidings.catalog._keywords import json_pointer, subschemas
from tidings.catalog._structure import dotted
from tidings.catalog._yaml import ParsedFile, Path

_FIX = (
    "a $ref must point at an entry of a catalog file's top-level `$defs` "
    "(`#/$defs/Money`, `common.yaml#/$defs/Money`) or at a message payload"
)


def file_uri(key: str) -> str:
    """The URI a catalog file is registered under (its key is the path relative to the root)."""
    return "file:///" + quote(key.lstrip("/"))


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
        return {n: copy.deepcopy(self.rewritten[n]) for n in sorted(seen)}

    def _rewrite(self, target: Target) -> tuple[dict[str, Any], set[str]]:
        parsed = self.files[target.key]
        resolver = self.registry.resolver(base_uri=file_uri(target.key))
        out = copy.deepcopy(target.schema)
        names: set[str] = set()
        pairs = zip(subschemas(target.schema), subschemas(out), strict=True)
        for (original, parts), (copied, _) in pairs:
            ref = original.get("$ref")
            if "$ref" not in original:
                continue
            where = (*target.path, *parts, "$ref")
            if not isinstance(ref, str):
                continue  # the meta-schema check reports it
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable as exc:
                message = self._unresolvable(target.key, ref, exc)
                if message:
                    self._issue(parsed, target.path, where, message)
                continue
            except Exception as exc:  # a malformed schema elsewhere; reported by other checks
                self._issue(parsed, target.path, where, f"cannot resolve $ref {ref!r}: {exc}")
                continue
            found = self.by_identity.get(id(resolved.contents))
            if found is None:
                self._issue(parsed, target.path, where, f"$ref {ref!r} is not bundled; {_FIX}")
                continue
            copied["$ref"] = f"#/$defs/{found.name}"
            names.add(found.name)
        return out, names

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
            hint = f" (did you mean '#/$defs/{close[0]}'?)" if close else ""
            where = "this file" if other == key else repr(posixpath.basename(other))
            available = ", ".join(choices) if choices else "none"
            return (
                f"cannot resolve $ref {ref!r}: {where} has nothing at {fragment!r}{hint}; "
                f"its $defs are: {available}"
            )
        return f"cannot resolve $ref {ref!r}: {exc}"  # pragma: no cover


__all__ = ["Bundler", "Target", "file_uri"]
