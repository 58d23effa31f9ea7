"""Load a catalog: YAML files -> checked, merged, bundled `Catalog` (or one `CatalogError`)."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from tidings._json import canonical_json
from tidings.catalog._bundle import Bundler, Target
from tidings.catalog._durations import parse_duration
from tidings.catalog._files import catalog_files, is_catalog_document
from tidings.catalog._issues import CatalogError, CatalogIssue
from tidings.catalog._model import (
    Catalog,
    Compatibility,
    ContextDef,
    Location,
    MessageDef,
    PreviousVersion,
    RetrySettings,
)
from tidings.catalog._naming import (
    function_name,
    message_name_problem,
    model_name,
    module_name_problem,
    package_name_problem,
)
from tidings.catalog._payloads import payload_issues
from tidings.catalog._structure import did_you_mean, dotted, structure_issues
from tidings.catalog._yaml import ParsedFile, parse_yaml
from tidings.catalog._yaml import Path as YamlPath

_SECTIONS = (("event", "events"), ("command", "commands"))
_ONLY_IN_MAIN = ("defaults", "description")


def fingerprint(schema: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON (sorted keys, no whitespace) of `schema`."""
    return hashlib.sha256(canonical_json(schema).encode("utf-8")).hexdigest()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Loader:
    def __init__(
        self, sources: Mapping[str, str], root: str, *, strict_keywords: bool = False
    ) -> None:
        self.sources = dict(sorted(sources.items()))
        self.root = root
        self.issues: list[CatalogIssue] = []
        # unknown keywords and formats: annotations, so warnings unless `strict_keywords`
        self.warnings: list[CatalogIssue] | None = None if strict_keywords else []
        self.files: dict[str, ParsedFile] = {}
        self.schemas: dict[str, ParsedFile] = {}  # JSON or YAML schema files that payloads $ref
        self.broken: set[str] = set()  # files that did not parse: skip checks that need them
        # schemas under a rejected name: still checked, never part of the model
        self.misnamed: list[tuple[tuple[str, YamlPath], Any]] = []
        # Python name -> (catalog name, file key, path) of who claimed it first
        self.model_names: dict[str, tuple[str, str, YamlPath]] = {}
        self.function_names: dict[str, tuple[str, str, YamlPath]] = {}
        # message name -> [(version, file key, path of its payload, payload node)]
        self.previous: dict[str, list[tuple[int, str, YamlPath, Any]]] = {}

    def display(self, key: str) -> str:
        return posixpath.join(self.root, key) if self.root not in ("", ".") else key

    def issue(self, parsed: ParsedFile, path: YamlPath, message: str, *, key: bool = False) -> None:
        self.issues.append(
            CatalogIssue(
                location=parsed.location(path, key=key), path=dotted(path), message=message
            )
        )

    # -- phases ---------------------------------------------------------------------------

    def parse(self) -> None:
        for key, text in self.sources.items():
            if key.endswith(".json"):
                parsed = _parse_json(self.display(key), text, self.issues)
            else:
                parsed = parse_yaml(self.display(key), text, self.issues)
            if parsed is None:
                self.broken.add(key)
                continue
            if not is_catalog_document(key, parsed.data):
                self.schemas[key] = parsed
                continue
            if not isinstance(parsed.data, dict):
                self.issue(
                    parsed,
                    (),
                    "a catalog file is a mapping with the keys catalog, description, contexts, "
                    "defaults, events, commands and $defs; start the file with one of them",
                )
                self.broken.add(key)
                continue
            self.issues.extend(structure_issues(parsed))
            self.files[key] = parsed

    def load(self) -> Catalog:
        self.parse()
        main = self.catalog_file()
        contexts = self.contexts()
        messages = self.names()
        defs = self.shared_defs()
        if not self.broken:
            self.check_contexts(messages, contexts)
        kept = [((key, path), node) for found in self.previous.values()
                for _, key, path, node in found]
        for (key, path), schema in [*messages.values(), *defs.values(), *self.misnamed, *kept]:
            if isinstance(schema, dict):
                self.issues.extend(
                    payload_issues(self.files[key], path, schema, warnings=self.warnings))
        targets = [
            Target(model_name(name), key, path, node)
            for name, ((key, path), node) in messages.items()
            if isinstance(node, dict)
        ] + [Target(name, key, path, node) for name, ((key, path), node) in defs.items()]
        targets += [
            Target(_previous_target(name, version), key, path, node)
            for name, found in self.previous.items()
            for version, key, path, node in found
            if isinstance(node, dict)
        ]
        targets += [
            Target(f"<misnamed {index}>", key, path, node)
            for index, ((key, path), node) in enumerate(self.misnamed)
            if isinstance(node, dict)
        ]
        bundler = Bundler(self.files, targets, schemas=self.schemas, broken=self.broken,
                          taken={*self.model_names, *defs})
        bundler.run()
        self.issues.extend(bundler.issues)
        for key in bundler.reached_schema_files():
            parsed = self.schemas[key]
            self.issues.extend(payload_issues(parsed, (), parsed.data, warnings=self.warnings))
        defaults_retry, defaults_compat = self.defaults(main)
        built = self.build(main, contexts, messages, defs, bundler, defaults_retry, defaults_compat)
        if self.issues or built is None:
            if not self.issues:  # pragma: no cover - build returns None only with issues
                raise AssertionError("catalog build failed without an issue")
            raise CatalogError(self.issues)
        return built

    def catalog_file(self) -> str | None:
        declared = [
            key
            for key, parsed in self.files.items()
            if "catalog" in parsed.data and isinstance(parsed.data["catalog"], str)
        ]
        if not declared:
            if not self.files and self.schemas and not self.broken:
                key, first = next(iter(self.schemas.items()))
                self.issue(first, (), "no catalog file: this file reads as a JSON Schema file "
                           "(its top level has schema keywords), and none declares `catalog: "
                           "<name>`; add a catalog YAML file whose payloads `$ref` it")
            if self.files and not self.broken and not any(
                "catalog" in p.data for p in self.files.values()
            ):
                first = next(iter(self.files.values()))
                self.issue(
                    first,
                    (),
                    "no file declares the catalog name; add `catalog: <name>` (the Python "
                    "package of the generated code) to one file",
                )
            return None
        main = declared[0]
        first = self.files[main]
        problem = module_name_problem(first.data["catalog"], "catalog") or package_name_problem(
            first.data["catalog"]
        )
        if problem:
            self.issue(first, ("catalog",), f"{first.data['catalog']!r} {problem}")
        for key in declared[1:]:
            self.issue(
                self.files[key],
                ("catalog",),
                f"the catalog name is already declared at {first.location(('catalog',), key=True)}"
                "; declare it in one file only",
                key=True,
            )
        for key, parsed in self.files.items():
            if key == main:
                continue
            for section in _ONLY_IN_MAIN:
                if section in parsed.data:
                    self.issue(
                        parsed,
                        (section,),
                        f"only the file that declares `catalog:` ({first.file}) may set "
                        f"`{section}`; move it there",
                        key=True,
                    )
        return main

    def contexts(self) -> dict[str, tuple[str, YamlPath]]:
        found: dict[str, tuple[str, YamlPath]] = {}
        for key, parsed in self.files.items():
            for name in _dict(parsed.data.get("contexts")):
                path: YamlPath = ("contexts", name)
                problem = module_name_problem(name, "context")
                if problem:
                    self.issue(parsed, path, f"context name {name!r} {problem}", key=True)
                if name in found:
                    other = self.files[found[name][0]].location(found[name][1], key=True)
                    self.issue(
                        parsed,
                        path,
                        f"context {name!r} is already declared at {other}; declare it once",
                        key=True,
                    )
                    continue
                found[name] = (key, path)
        return found

    def names(self) -> dict[str, tuple[tuple[str, YamlPath], Any]]:
        """Every message by name -> ((file key, path), payload node); checks names."""
        found: dict[str, tuple[tuple[str, YamlPath], Any]] = {}
        kinds: dict[str, str] = {}
        models, functions = self.model_names, self.function_names
        for key, parsed in self.files.items():
            for kind, section in _SECTIONS:
                for name, body in _dict(parsed.data.get(section)).items():
                    path: YamlPath = (section, name)
                    problem = message_name_problem(name)
                    if problem:
                        self.issue(parsed, path, f"{kind} name {name!r} {problem}", key=True)
                        payload_path: YamlPath = (*path, "payload")
                        self.misnamed.append(((key, payload_path), _dict(body).get("payload")))
                        continue
                    if name in found:
                        (other_key, other_path), _ = found[name]
                        other = self.files[other_key].location(other_path[:-1], key=True)
                        self.issue(
                            parsed,
                            path,
                            f"{name!r} is already declared as {_article(kinds[name])} at "
                            f"{other}; names are unique across the catalog's files",
                            key=True,
                        )
                        continue
                    self.collide({"model": models, "function": functions}, name, key, path)
                    kinds[name] = kind
                    payload = _dict(body).get("payload")
                    found[name] = ((key, (*path, "payload")), payload)
                    self.previous_versions(parsed, key, path, _dict(body))
        return found

    def previous_versions(self, parsed: ParsedFile, key: str, path: YamlPath,
                          body: dict[str, Any]) -> None:
        """Record the older payloads a message keeps under `previous`; each must be older than
        its `version` (the format check words the rest)."""
        version = body.get("version", 1)
        found: list[tuple[int, str, YamlPath, Any]] = []
        for label, entry in _dict(body.get("previous")).items():
            match = re.fullmatch(r"v([1-9][0-9]*)", str(label))
            if match is None:
                continue
            number = int(match.group(1))
            if isinstance(version, int) and number >= version:
                self.issue(parsed, (*path, "previous", label),
                           f"{label} is not older than this message's `version` ({version}); "
                           f"`previous` keeps the payloads of older versions: bump `version` or "
                           f"remove {label}", key=True)
                continue
            found.append((number, key, (*path, "previous", label, "payload"),
                          _dict(entry).get("payload")))
        if found:
            self.previous[str(path[1])] = sorted(found, key=lambda f: f[0])

    def collide(
        self, seen: dict[str, dict[str, tuple[str, str, YamlPath]]], name: str, key: str,
        path: YamlPath,
    ) -> None:
        """Report `name` when its Python names are taken; else claim them."""
        python = {"model": model_name(name), "function": function_name(name)}
        clashes = {what: seen[what][python[what]] for what in seen if python[what] in seen[what]}
        if not clashes:
            for what, names in seen.items():
                names[python[what]] = (name, key, path)
            return
        other_name, other_key, other_path = next(iter(clashes.values()))
        other = self.files[other_key].location(other_path, key=True)
        taken = " and ".join(
            f"{python[what]!r}" for what in clashes if clashes[what][0] == other_name
        )
        noun = "names" if " and " in taken else "name"
        self.issue(
            self.files[key],
            path,
            f"{name!r} and {other_name!r} (at {other}) both become the Python {noun} {taken}; "
            "rename one of them",
            key=True,
        )

    def shared_defs(self) -> dict[str, tuple[tuple[str, YamlPath], Any]]:
        """Every `$defs` entry by name -> ((file key, path), schema); checks names."""
        found: dict[str, tuple[tuple[str, YamlPath], Any]] = {}
        for key, parsed in self.files.items():
            for name, body in _dict(parsed.data.get("$defs")).items():
                path: YamlPath = ("$defs", name)
                problem = message_name_problem(name)
                if problem:
                    self.misnamed.append(((key, path), body))
                    self.issue(parsed, path, f"definition name {name!r} {problem}", key=True)
                    continue
                if name in found:
                    (other_key, other_path), _ = found[name]
                    other = self.files[other_key].location(other_path, key=True)
                    self.issue(
                        parsed,
                        path,
                        f"definition {name!r} is already declared at {other}; definition "
                        "names are unique across the catalog's files",
                        key=True,
                    )
                    continue
                self.collide({"model": self.model_names}, name, key, path)
                found[name] = ((key, path), body)
        return found

    def check_contexts(
        self,
        messages: dict[str, tuple[tuple[str, YamlPath], Any]],
        contexts: dict[str, tuple[str, YamlPath]],
    ) -> None:
        declared = sorted(contexts)
        for (key, payload_path), _ in messages.values():
            parsed = self.files[key]
            path = payload_path[:-1]
            body = _dict(parsed.data[path[0]][path[1]])
            refs: list[tuple[YamlPath, Any]] = []
            for field in ("producers", "consumers"):
                values = body.get(field)
                if isinstance(values, list):
                    refs.extend(((*path, field, i), v) for i, v in enumerate(values))
            if isinstance(body.get("handler"), str):
                refs.append(((*path, "handler"), body["handler"]))
            for where, context in refs:
                if isinstance(context, str) and context not in contexts:
                    self.issue(
                        parsed,
                        where,
                        f"unknown context {context!r}{did_you_mean(context, declared)}; "
                        "declare it under `contexts:` or use one of: "
                        + (", ".join(declared) or "(none declared)"),
                    )

    def retry(
        self, parsed: ParsedFile, path: YamlPath, raw: Any, base: RetrySettings
    ) -> RetrySettings:
        values = base.model_dump()
        for name, value in _dict(raw).items():
            if name in ("initial_delay", "max_delay"):
                try:
                    values[name] = parse_duration(value)
                except ValueError as exc:
                    if isinstance(value, float):  # .inf or .nan: the format check lets them by
                        self.issue(parsed, (*path, name), str(exc))
                    continue  # the rest is reported by the format check
            elif name in values:
                values[name] = value
        try:
            settings = RetrySettings.model_validate(values)
        except ValueError:
            return base  # reported by the format check
        if isinstance(raw, dict) and settings.max_delay < settings.initial_delay:
            self.issue(
                parsed,
                path,
                f"max_delay ({settings.max_delay:g}s) is shorter than initial_delay "
                f"({settings.initial_delay:g}s); raise max_delay or lower initial_delay",
            )
        return settings

    def defaults(self, main: str | None) -> tuple[RetrySettings, Compatibility]:
        if main is None:
            return RetrySettings(), Compatibility.BACKWARD
        parsed = self.files[main]
        defaults = _dict(parsed.data.get("defaults"))
        retry = self.retry(parsed, ("defaults", "retry"), defaults.get("retry"), RetrySettings())
        compat = _compat(defaults.get("compatibility"), Compatibility.BACKWARD)
        return retry, compat

    def previous_version(self, name: str, version: int, parsed: ParsedFile, path: YamlPath,
                         payload: dict[str, Any], bundler: Bundler) -> PreviousVersion:
        """The kept payload of `version` at `path`, bundled self-contained."""
        target = _previous_target(name, version)
        resolved = dict(bundler.rewritten[target])
        needed = bundler.closure(target)
        if needed:
            resolved["$defs"] = needed
        entry = _dict(parsed.data[path[0]][path[1]]["previous"][path[3]])
        return PreviousVersion(
            version=version, description=str(entry.get("description", "")), payload=payload,
            resolved_payload=resolved, fingerprint=fingerprint(resolved),
            location=parsed.location(path[:-1], key=True))

    def build(
        self,
        main: str | None,
        contexts: dict[str, tuple[str, YamlPath]],
        messages: dict[str, tuple[tuple[str, YamlPath], Any]],
        defs: dict[str, tuple[tuple[str, YamlPath], Any]],
        bundler: Bundler,
        defaults_retry: RetrySettings,
        defaults_compat: Compatibility,
    ) -> Catalog | None:
        built_contexts: dict[str, ContextDef] = {}
        for name, (key, path) in sorted(contexts.items()):
            parsed = self.files[key]
            body = _dict(parsed.data["contexts"][name])
            built_contexts[name] = ContextDef(
                name=name,
                description=str(body.get("description", "")),
                owner=body.get("owner") if isinstance(body.get("owner"), str) else None,
                transport=body.get("transport") if isinstance(body.get("transport"), str) else None,
                location=parsed.location(path, key=True),
            )
        events: dict[str, MessageDef] = {}
        commands: dict[str, MessageDef] = {}
        for name, ((key, payload_path), payload) in sorted(messages.items()):
            parsed = self.files[key]
            path = payload_path[:-1]
            body = _dict(parsed.data[path[0]][path[1]])
            kind: Literal["event", "command"] = "event" if path[0] == "events" else "command"
            retry = self.retry(parsed, (*path, "retry"), body.get("retry"), defaults_retry)
            handler = body.get("handler") if kind == "command" else None
            producers = _names(body.get("producers"))
            consumers = (handler,) if isinstance(handler, str) else _names(body.get("consumers"))
            remote = sorted(
                {c for c in (*producers, *consumers) if c in built_contexts
                 and built_contexts[c].remote}
            )
            if body.get("distributed") is False and remote:
                roles = _roles(remote, built_contexts, producers, kind)
                self.issue(
                    parsed,
                    (*path, "distributed"),
                    f"{name!r} cannot stay in-process: {roles}; remove `distributed: false` "
                    "(a subscriber that must stay in-process passes `remote=False` to `on`)",
                )
            if self.issues or main is None or not isinstance(payload, dict):
                continue
            python = model_name(name)
            resolved = dict(bundler.rewritten[python])
            needed = bundler.closure(python)
            if needed:
                resolved["$defs"] = needed
            previous = tuple(
                self.previous_version(name, version, self.files[pkey], ppath, node, bundler)
                for version, pkey, ppath, node in self.previous.get(name, ())
                if isinstance(node, dict)
            )
            message = MessageDef(
                name=name,
                kind=kind,
                description=str(body.get("description", "")),
                version=int(body.get("version", 1)),
                deprecated=bool(body.get("deprecated", False)),
                producers=producers,
                consumers=consumers,
                handler=handler,
                retry=retry,
                compatibility=_compat(body.get("compatibility"), defaults_compat),
                distributed=body.get("distributed") is True or bool(remote),
                payload=payload,
                resolved_payload=resolved,
                fingerprint=fingerprint(resolved),
                location=parsed.location(path, key=True),
                file=parsed.file,
                model_name=python,
                function_name=function_name(name),
                previous=previous,
            )
            (events if kind == "event" else commands)[name] = message
        if self.issues or main is None:
            return None
        first = self.files[main].data
        return Catalog(
            name=first["catalog"],
            description=str(first.get("description", "")),
            contexts=built_contexts,
            events=events,
            commands=commands,
            defaults_retry=defaults_retry,
            defaults_compatibility=defaults_compat,
            shared_defs={
                name: bundler.rewritten[name]
                for name in sorted([*defs, *(t.name for t in bundler.made)])
            },
            files=tuple(self.display(key) for key in self.sources),
            warnings=tuple(self.warnings or ()),
        )


def _previous_target(name: str, version: int) -> str:
    """The bundle name of message `name`'s kept payload of `version` (no Python name: the
    generated module `models/v<version>.py` names the class like the current one)."""
    return f"<v{version} {model_name(name)}>"


def _compat(value: Any, default: Compatibility) -> Compatibility:
    try:
        return Compatibility(value) if value is not None else default
    except ValueError:
        return default


def _names(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _roles(
    remote: list[str], contexts: Mapping[str, ContextDef], producers: tuple[str, ...], kind: str
) -> str:
    """`consumed by 'metis' (transport: nats)`-style reasons, for the contexts in `remote`."""
    parts = []
    for name in remote:
        verb = "produced" if name in producers else ("handled" if kind == "command" else "consumed")
        parts.append(f"{verb} by {name!r} (transport: {contexts[name].transport})")
    return " and ".join(parts)


def _article(kind: str) -> str:
    return "an event" if kind == "event" else "a command"


def _no_catalog(where: str, message: str) -> CatalogError:
    return CatalogError([CatalogIssue(location=Location(file=where, line=0, column=0),
                                      message=message)])


def _parse_json(file: str, text: str, issues: list[CatalogIssue]) -> ParsedFile | None:
    """A JSON schema file, read by the YAML reader (JSON is YAML) for its lines and columns."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        issues.append(CatalogIssue(location=Location(file=file, line=exc.lineno, column=exc.colno),
                                   message=f"invalid JSON: {exc.msg}; fix the JSON syntax here"))
        return None
    found: list[CatalogIssue] = []
    parsed = parse_yaml(file, text, found)
    if parsed is None or found or parsed.data != data:
        return ParsedFile(file=file, data=data)  # no positions: issues point at line 1
    return parsed


def load_catalog_texts(
    files: Mapping[str, str], *, root: str = "", strict_keywords: bool = False
) -> Catalog:
    """Load a catalog from in-memory files: virtual path (relative, `/`-separated) -> YAML text
    (or JSON, for schema files that payloads `$ref`).

    Paths shown in errors and stored in the model are `root/path`. Unknown keywords and formats
    are `Catalog.warnings`, or errors too with `strict_keywords`. Raises `CatalogError`.
    """
    if not files:
        raise _no_catalog(root or ".", "no catalog files; add a *.yaml file with `catalog: <name>`")
    sources = {posixpath.normpath(key.replace(os.sep, "/")): text for key, text in files.items()}
    with _gc_paused():
        return _Loader(sources, root, strict_keywords=strict_keywords).load()


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading.

    Loading allocates hundreds of thousands of long-lived objects (YAML nodes and marks, schema
    dicts) and no cycles; with the collector on, its repeated full passes over the growing heap
    took most of the load time (1,000 events: ~1.4 s of 1.8 s). Reference counting still frees
    everything as usual, and the collector is switched back on afterwards if it was on before.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read(path: Path, shown: str, issues: list[CatalogIssue]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        issues.append(CatalogIssue(location=Location(file=shown, line=1, column=1),
                                   message=f"not UTF-8 text ({exc.reason}); save it as UTF-8"))
    except OSError as exc:
        issues.append(CatalogIssue(location=Location(file=shown, line=0, column=0),
                                   message=f"cannot read the file: {exc.strerror}"))
    return None


def load_catalog(
    root: Path | str | Sequence[Path | str], *, strict_keywords: bool = False
) -> Catalog:
    """Load a catalog from a directory (every file `catalog_files` lists: *.yaml, *.yml and the
    *.json schema files payloads `$ref`) or from files.

    Paths in errors and in the model are shown as given (`schemas/freight.yaml`). Unknown JSON
    Schema keywords and formats are `Catalog.warnings`, or errors with `strict_keywords`.
    Raises `CatalogError` listing every problem, sorted by file and line.
    """
    issues: list[CatalogIssue] = []
    sources: dict[str, str] = {}
    if isinstance(root, str | os.PathLike):
        directory = Path(root)
        shown_root = directory.as_posix()
        if not directory.exists():
            raise _no_catalog(shown_root, "no such directory; point tidings at the directory "
                                          "that holds the catalog's *.yaml files")
        if directory.is_file():
            return load_catalog([directory], strict_keywords=strict_keywords)
        paths = catalog_files(directory)
        if not any(p.suffix in (".yaml", ".yml") for p in paths):
            raise _no_catalog(shown_root, "no *.yaml or *.yml files in this directory; add the "
                                          "catalog files (one declares `catalog: <name>`)")
        for path in paths:
            key = path.relative_to(directory).as_posix()
            shown = key if shown_root in ("", ".") else f"{shown_root}/{key}"
            text = _read(path, shown, issues)
            if text is not None:
                sources[key] = text
        if issues:
            raise CatalogError(issues)
        return load_catalog_texts(sources, root="" if shown_root == "." else shown_root,
                                  strict_keywords=strict_keywords)
    for item in root:
        path = Path(item)
        key = posixpath.normpath(path.as_posix())
        text = _read(path, key, issues)
        if text is not None:
            sources[key] = text
    if issues:
        raise CatalogError(issues)
    return load_catalog_texts(sources, strict_keywords=strict_keywords)
