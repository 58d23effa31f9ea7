"""Resolve every `$ref` of the catalog with `referencing` and bundle payloads self-contained.

A `$ref` may point at a catalog document's top-level `$defs` entry or payload (or a schema
inside one), at a payload's own `$defs`/`definitions`, or at a JSON or YAML schema file below
the catalog directory (whole, or a schema inside it by fragment). Inside schema files refs
resolve as JSON Schema says: against the `$id` of the enclosing resource, else the file's path.

A schema file whose root `$id` is a relative reference (`common/user.schema.json`, as schemas
written for ajv and most JavaScript tools carry) is identified by that id relative to the
catalog directory, wherever the file sits below it: refs between such files find each other by
`$id`, as those tools do. A ref from such a file that its `$id` cannot resolve is tried once
more against the file's own path (what the spec's retrieval-URI rule gives).
Every schema reached is translated into 2020-12 (`_dialects.translate`) and gets a name in the
bundle; every `$ref` is rewritten to `#/$defs/<Name>`.
"""

from __future__ import annotations

import contextlib
import difflib
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

import attrs
from referencing import Registry, Specification
from referencing.exceptions import NoSuchAnchor, NoSuchResource, PointerToNowhere, Unresolvable
from referencing.jsonschema import DRAFT202012

from tidings.catalog._dialects import DRAFT_2020_12, Dialect, dialect_of, file_dialect, translate
from tidings.catalog._issues import CatalogIssue
from tidings.catalog._keywords import (
    KNOWN,
    SCHEMA_ARRAYS,
    SCHEMA_MAPS,
    SCHEMA_VALUED,
    json_pointer,
    subschemas,
)
from tidings.catalog._naming import RESERVED_MODEL_NAMES, model_name
from tidings.catalog._structure import dotted
from tidings.catalog._yaml import ParsedFile, Path

_FIX = (
    "a $ref must point at an entry of a catalog file's top-level `$defs` "
    "(`#/$defs/Money`, `common.yaml#/$defs/Money`), at a message payload, or at a JSON "
    "Schema file (`payloads/order.schema.json`)"
)
_REF_KEYS = frozenset({"$ref", "$recursiveRef", "$dynamicRef"})
_VALUED = SCHEMA_VALUED | {"additionalItems"}
_ARRAYS = SCHEMA_ARRAYS | {"items"}
_MAPS = SCHEMA_MAPS | {"definitions"}
_KNOWN_OUT = frozenset(KNOWN - {"$defs", "$id", "$anchor"})
_LOCAL_DEFS = ("$defs", "definitions")


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
    """A schema that gets a name in the bundle: a shared definition, a message payload, or (made
    while resolving) a schema a `$ref` reaches in a schema file or a payload's own `$defs`."""

    name: str
    key: str
    path: Path
    schema: Any
    resolver: Any | None = None
    dialect: Dialect = DRAFT_2020_12
    reached: bool = False
    home: Any = None
    """For a payload's own definition: the payload, where its `#/$defs/...` refs look first."""


@dataclass(frozen=True)
class _Scope:
    resolver: Any
    dialect: Dialect
    key: str
    plain: bool  # the file's own URI is the base: outcomes are cached per (file, ref)


@dataclass
class Bundler:
    """Holds the registry of every file and rewrites schemas to `#/$defs/<Name>` refs.

    `files` are the catalog documents, `schemas` the schema files (both by key); `taken` are the
    Python names the bundle's new names must avoid.
    """

    files: Mapping[str, ParsedFile]
    targets: list[Target]
    schemas: Mapping[str, ParsedFile] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)
    issues: list[CatalogIssue] = field(default_factory=list)
    rewritten: dict[str, dict[str, Any]] = field(default_factory=dict)
    refs: dict[str, set[str]] = field(default_factory=dict)
    made: list[Target] = field(default_factory=list)
    """The targets made while resolving (schema-file and payload-local schemas), in order."""

    def __post_init__(self) -> None:
        resources = [(file_uri(key), DRAFT202012.create_resource(parsed.data))
                     for key, parsed in self.files.items()]
        self.dialects: dict[str, Dialect] = {}
        self._rebased: dict[int, str] = {}  # id() of a schema file's root -> its absolute `$id`
        self._rebased_keys: set[str] = set()
        for key, parsed in self.schemas.items():
            rebased = _rebased_id(parsed.data)
            if rebased is not None:
                self._rebased[id(parsed.data)] = rebased
                self._rebased_keys.add(key)
        self._specs: dict[str, Specification[Any]] = {}
        for key, parsed in self.schemas.items():
            dialect = file_dialect(parsed.data) or DRAFT_2020_12
            self.dialects[key] = dialect
            resource = self._spec(dialect).create_resource(parsed.data)
            resources.append((file_uri(key), resource))
            try:
                own = resource.id()
            except Exception:  # a malformed `$id` (not text): the meta-schema check says so
                own = None
            if isinstance(own, str) and urljoin(file_uri(key), own) != file_uri(key):
                resources.append((urldefrag(urljoin(file_uri(key), own))[0], resource))
        self.registry: Registry[Any] = Registry().with_resources(resources)
        if self.schemas:
            with contextlib.suppress(Exception):  # a malformed `$id`: the meta-schema check says so
                self.registry = self.registry.crawl()
        self.by_identity = {id(t.schema): t for t in self.targets}
        self._outcomes: dict[tuple[str, str], tuple[Target | None, str | None]] = {}
        self._where: dict[str, dict[int, Path]] = {}
        self._names = set(self.taken) | set(RESERVED_MODEL_NAMES) | {t.name for t in self.targets}
        self._owners: dict[str, str] = {}  # schema file -> the name its root has in the bundle
        self.adopted: list[Target] = []

    def _spec(self, dialect: Dialect) -> Specification[Any]:
        """`dialect`'s specification, reading a schema file's relative root `$id` as relative to
        the catalog directory (see the module's docstring)."""
        spec = self._specs.get(dialect.name)
        if spec is None:
            plain, rebased = dialect.specification.id_of, self._rebased

            def id_of(contents: Any) -> str | None:
                own = rebased.get(id(contents))
                return own if own is not None else plain(contents)

            evolved: Specification[Any] = attrs.evolve(cast(Any, dialect.specification),
                                                       id_of=id_of)
            spec = self._specs[dialect.name] = evolved
        return spec

    def run(self) -> None:
        """Rewrite every target (and every schema they reach), recording issues for refs that
        cannot be resolved."""
        for target in self.targets:
            self._rewrite_target(target)
        done = 0
        while done < len(self.made):  # rewriting one may make more
            self._rewrite_target(self.made[done])
            done += 1

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

    def reached_schema_files(self) -> list[str]:
        """The schema files some `$ref` reached, sorted."""
        return sorted({t.key for t in [*self.made, *self.adopted] if t.key in self.schemas})

    def _rewrite_target(self, target: Target) -> None:
        adopted = self._adopt(target)
        if adopted is not None:
            target = adopted
        names: set[str] = set()
        self.rewritten[target.name] = {}  # claims the name first: a recursive ref finds it
        scope = self._scope_of(target)
        if isinstance(target.schema, dict):
            self.rewritten[target.name] = self._schema(target, names, target.schema, (), scope,
                                                       root=True)
        else:
            self.rewritten[target.name] = copy_json(target.schema)
        self.refs[target.name] = names

    def _adopt(self, target: Target) -> Target | None:
        """For a payload or definition that is only a `$ref` to a schema file (or a schema in
        one) not yet bundled: that schema under the payload's own name (so the file's schema
        becomes the message's model, not a class beside it)."""
        schema = target.schema
        if target.reached or not isinstance(schema, dict) or not isinstance(
            schema.get("$ref"), str
        ) or not set(schema) <= {"$ref", "description", "title", "$comment"}:
            return None
        scope = self._scope_of(target)
        try:
            resolved = scope.resolver.lookup(schema["$ref"])
        except Exception:  # reported when the ref is resolved as usual
            return None
        contents = resolved.contents
        place = self._locate(contents) if id(contents) not in self.by_identity else None
        if place is None or place[0] not in self.schemas or not isinstance(contents, dict):
            return None
        key, path = place
        dialect = self.dialects.get(key, DRAFT_2020_12)
        resolver = resolved.resolver if path else self.registry.resolver(
            base_uri=file_uri(key)).in_subresource(self._spec(dialect).create_resource(contents))
        adopted = Target(target.name, key, path, contents, resolver=resolver, dialect=dialect,
                         reached=True)
        self.by_identity[id(contents)] = adopted
        self.adopted.append(adopted)
        if not path:
            self._owners.setdefault(key, target.name)
        return adopted

    def _scope_of(self, target: Target) -> _Scope:
        if target.resolver is not None:
            return _Scope(target.resolver, target.dialect, target.key, plain=False)
        resolver = self.registry.resolver(base_uri=file_uri(target.key))
        dialect = file_dialect(target.schema) or DRAFT_2020_12
        return _Scope(resolver, dialect, target.key, plain=dialect.latest)

    def _enter(self, scope: _Scope, node: dict[str, Any]) -> _Scope:
        """The scope inside `node`: a new base URI under an `$id`, a new dialect under `$schema`."""
        dialect = scope.dialect
        if "$schema" in node:
            dialect = dialect_of(node["$schema"]) or dialect
        try:
            resource = self._spec(dialect).create_resource(node)
            if resource.id() is None and dialect is scope.dialect:
                return scope
            resolver = scope.resolver.in_subresource(resource)
        except Exception:  # a malformed `$id`: the meta-schema check says so
            return scope
        return _Scope(resolver, dialect, scope.key, plain=False)

    # Plain methods, not nested closures: closures that call each other form a reference cycle
    # that would keep every parsed file alive until the cyclic garbage collector runs.
    def _schema(self, target: Target, names: set[str], node: dict[str, Any], parts: Path,
                scope: _Scope, *, root: bool = False) -> dict[str, Any]:
        if not root or target.resolver is None:
            scope = self._enter(scope, node)
        if scope.plain and not any(k in node for k in _LOCAL_DEFS) and not any(
            k in node for k in _REF_KEYS
        ) and _plain_2020(node):
            return self._copy_plain(target, names, node, parts, scope)

        def walk(key: str, value: Any) -> Any:
            return self._value(target, names, key, value, parts, scope)

        return translate(node, scope.dialect, _KNOWN_OUT, walk)

    def _copy_plain(self, target: Target, names: set[str], node: dict[str, Any], parts: Path,
                    scope: _Scope) -> dict[str, Any]:
        """The fast path of a 2020-12 schema with no `$ref` or definitions of its own: copied as
        written, its subschemas walked."""
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in SCHEMA_VALUED or key in SCHEMA_MAPS or key in SCHEMA_ARRAYS:
                out[key] = self._value(target, names, key, value, parts, scope)
            else:
                out[key] = copy_json(value)
        return out

    def _value(self, target: Target, names: set[str], key: str, value: Any, parts: Path,
               scope: _Scope) -> Any:
        if key in _REF_KEYS:
            ref = "#" if key == "$recursiveRef" else value
            found = self._target_of(target, (*parts, key), ref, scope)
            if found is None:
                return copy_json(value)
            names.add(found.name)
            return f"#/$defs/{found.name}"
        at = (*parts, key)
        if key in _ARRAYS and isinstance(value, list):
            return [self._walk(target, names, v, (*at, i), scope) for i, v in enumerate(value)]
        if key in _VALUED:
            return self._walk(target, names, value, at, scope)
        if key in _MAPS and isinstance(value, dict):
            return {n: self._walk(target, names, v, (*at, n), scope) for n, v in value.items()}
        return copy_json(value)

    def _walk(self, target: Target, names: set[str], value: Any, parts: Path,
              scope: _Scope) -> Any:
        if isinstance(value, dict):
            return self._schema(target, names, value, parts, scope)
        return copy_json(value)

    # -- resolving one $ref ----------------------------------------------------------------

    def _target_of(self, target: Target, parts: Path, ref: Any, scope: _Scope) -> Target | None:
        """The target `ref` (written at `parts` of `target`) points at, or None after recording
        why it cannot be bundled."""
        if not isinstance(ref, str):
            return None  # the meta-schema check reports it
        local = self._local(target, ref)
        if local is not None:
            return local
        if scope.plain:
            cache_key = (scope.key, ref)
            if cache_key not in self._outcomes:
                self._outcomes[cache_key] = self._outcome(scope, ref)
            found, message = self._outcomes[cache_key]
        else:
            found, message = self._outcome(scope, ref)
        if message is not None:
            self._issue(target, (*target.path, *parts), message)
        return found

    def _local(self, target: Target, ref: str) -> Target | None:
        """A payload's (or shared definition's) own `$defs`/`definitions` entry, for `#/$defs/X`
        written inside it: such a schema is no resource of its own, so the spec would look in
        the file's top level; a payload's own definitions are what its author means."""
        if target.key not in self.files or not ref.startswith(("#/$defs/", "#/definitions/")):
            return None
        section, _, name = ref[2:].partition("/")
        home = target.home if target.home is not None else target.schema
        defs = home.get(section) if isinstance(home, dict) else None
        name = unquote(name).replace("~1", "/").replace("~0", "~")
        if not isinstance(defs, dict) or name not in defs:
            return None
        node = defs[name]
        found = self.by_identity.get(id(node))
        if found is None:
            label = f"{target.name}{model_name(name)}" if not target.name.startswith("<") else name
            home_path = target.path if target.home is None else target.path[:-2]
            found = self._make(target.key, (*home_path, section, name), node,
                               [model_name(name), label], None, DRAFT_2020_12)
            found.home = home
        return found

    def _outcome(self, scope: _Scope, ref: str) -> tuple[Target | None, str | None]:
        try:
            resolved = scope.resolver.lookup(ref)
        except Unresolvable as exc:
            try:
                if scope.key not in self._rebased_keys:
                    raise
                resolved = self.registry.resolver(base_uri=file_uri(scope.key)).lookup(ref)
            except Unresolvable:
                return None, self._unresolvable(scope.key, ref, exc)
        except Exception as exc:  # a malformed schema elsewhere
            return None, f"cannot resolve $ref {ref!r}: {exc}"
        contents = resolved.contents
        found = self.by_identity.get(id(contents))
        if found is not None:
            return found, None
        place = self._locate(contents)
        if place is None:
            return None, f"$ref {ref!r} is not bundled; {_FIX}"
        key, path = place
        if key in self.files:
            owner = next((t for t in self.targets if t.key == key and path[:len(t.path)] == t.path
                          and t.path), None)
            if owner is None or not isinstance(contents, dict | bool):
                return None, f"$ref {ref!r} is not bundled; {_FIX}"
            return self._make(key, path, contents, _candidates(key, path, owner.name), resolved.resolver,
                              DRAFT_2020_12), None
        if not isinstance(contents, dict | bool):
            return None, f"$ref {ref!r} points at a {type(contents).__name__}, not a schema; {_FIX}"
        dialect = self.dialects.get(key, DRAFT_2020_12)
        if path:
            resolver = resolved.resolver
        else:
            resolver = self.registry.resolver(base_uri=file_uri(key)).in_subresource(
                self._spec(dialect).create_resource(contents))
        made = self._make(key, path, contents, _candidates(key, path, self._owners.get(key)),
                          resolver, dialect)
        if not path:
            self._owners.setdefault(key, made.name)
        return made, None

    def _make(self, key: str, path: Path, node: Any, candidates: list[str],
              resolver: Any | None, dialect: Dialect) -> Target:
        name = self._free_name(candidates)
        made = Target(name, key, path, node, resolver=resolver, dialect=dialect, reached=True)
        self.made.append(made)
        self.by_identity[id(node)] = made
        return made

    def _free_name(self, candidates: list[str]) -> str:
        for candidate in candidates:
            if candidate and candidate not in self._names:
                self._names.add(candidate)
                return candidate
        base = candidates[-1] or "Schema"
        number = 2
        while f"{base}{number}" in self._names:
            number += 1
        self._names.add(f"{base}{number}")
        return f"{base}{number}"

    def _locate(self, contents: Any) -> tuple[str, Path] | None:
        """(file key, path) of a schema object found by `referencing` (indexed per file once)."""
        for key, parsed in [*self.schemas.items(), *self.files.items()]:
            index = self._where.get(key)
            if index is None:
                index = self._where[key] = {id(node): at for node, at in _nodes(parsed.data)}
            if id(contents) in index:
                return key, index[id(contents)]
        return None

    def _issue(self, target: Target, where: Path, message: str) -> None:
        parsed = self.files.get(target.key) or self.schemas[target.key]
        self.issues.append(
            CatalogIssue(
                location=parsed.location(where),
                path=dotted(target.path) if target.key in self.files else "",
                pointer=json_pointer(where[len(target.path):]),
                message=message,
            )
        )

    def _unresolvable(self, key: str, ref: str, exc: Unresolvable) -> str | None:
        """Why `ref` fails, or None when it points into a file that did not parse."""
        base = file_uri(key)
        uri, fragment = urldefrag(urljoin(base, ref))
        every = {**self.files, **self.schemas}
        if not uri.startswith("file:///"):
            return (
                f"cannot resolve $ref {ref!r}: no schema file of the catalog has the `$id` "
                f"{uri!r}, and tidings never fetches remote schemas; put the schema file below "
                "the catalog directory (its `$id` is found there)"
            )
        other = _key_of(uri)
        if other in self.broken:
            return None
        if not other or uri.endswith("/"):
            return (
                f"cannot resolve $ref {ref!r}: it names a folder, not a catalog file; write "
                "'FILE.yaml#/$defs/NAME' relative to this file"
            )
        if isinstance(exc, NoSuchResource) or other not in every:
            rel = posixpath.relpath(other, posixpath.dirname(key) or ".")
            names = [posixpath.relpath(k, posixpath.dirname(key) or ".") for k in every]
            close = difflib.get_close_matches(rel, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return (
                f"cannot resolve $ref {ref!r}: there is no catalog file {rel!r}{hint}; "
                "refer to a file of the catalog, relative to this one"
            )
        if isinstance(exc, PointerToNowhere | NoSuchAnchor):
            data = every[other].data
            defs = data.get("$defs", data.get("definitions")) if isinstance(data, dict) else None
            choices = sorted(defs) if isinstance(defs, dict) else []
            section = "$defs" if not isinstance(data, dict) or "$defs" in data or (
                "definitions" not in data) else "definitions"
            wanted = fragment.rsplit("/", 1)[-1]
            close = difflib.get_close_matches(wanted, choices, n=1)
            file_part = ref.split("#", 1)[0]  # a cross-file ref keeps its file in the fix
            hint = f" (did you mean '{file_part}#/{section}/{close[0]}'?)" if close else ""
            where = "this file" if other == key else repr(posixpath.basename(other))
            available = ", ".join(choices) if choices else "none"
            return (
                f"cannot resolve $ref {ref!r}: {where} has nothing at {fragment!r}{hint}; "
                f"its {section} are: {available}"
            )
        return f"cannot resolve $ref {ref!r}: {exc}"  # pragma: no cover


def _rebased_id(data: Any) -> str | None:
    """A schema file root's relative `$id` as a URI relative to the catalog directory, or None
    when it has none, an absolute one or only an anchor (`#name`)."""
    own = data.get("$id") if isinstance(data, dict) else None
    if not isinstance(own, str) or not own or own.startswith("#"):
        return None
    if urlsplit(own).scheme:
        return None
    return "file:///" + own.lstrip("/")


def _plain_2020(node: dict[str, Any]) -> bool:
    """True when no keyword of `node` needs translating (the common case of catalog YAML)."""
    return "$schema" not in node and "$id" not in node and "$anchor" not in node and (
        not isinstance(node.get("items"), list)) and all(
        k in _KNOWN_OUT or k.startswith("x-") or k == "$dynamicAnchor" for k in node)


def _nodes(data: Any, at: Path = ()) -> list[tuple[Any, Path]]:
    """Every container inside `data` with its path (what a JSON pointer can reach)."""
    out: list[tuple[Any, Path]] = []
    stack: list[tuple[Any, Path]] = [(data, at)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            out.append((node, path))
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            out.append((node, path))
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return out


_SKIP_WORDS = frozenset({*_MAPS, *_VALUED, *_ARRAYS, "payload", "events", "commands"})


def _candidates(key: str, path: Path, owner: str | None) -> list[str]:
    """Class names for a schema at `path` of file `key`, most readable first: the last word of
    its path (`Address`), then prefixed by the file's name and folders (`UserAddress`,
    `CommonUserAddress`); for a whole file its name (`User`, `CommonUser`)."""
    words = [str(p) for p in path if isinstance(p, str) and p not in _SKIP_WORDS]
    base = posixpath.basename(key)
    for suffix in (".json", ".yaml", ".yml", ".schema"):
        base = base.removesuffix(suffix)
    folders = [p for p in posixpath.dirname(key).split("/") if p]
    prefixes = [owner] if owner else [base, *reversed(folders)]
    tail = [words[-1]] if words else []
    out: list[str] = []
    if tail:
        out.append(_pascal(tail))
    chain: list[str] = list(tail)
    for prefix in prefixes:
        chain.insert(0, prefix)
        out.append(_pascal(chain))
    return out or ["Schema"]


def _pascal(words: list[str]) -> str:
    name = "".join(model_name(w) for w in words)
    if not name or not name[0].isalpha() or not name.isascii() or not name.isidentifier():
        name = "Schema" + "".join(c for c in name if c.isalnum() and c.isascii())
    return name


__all__ = ["Bundler", "Target", "file_uri", "subschemas"]
