"""Check one parsed file against the catalog format schema and word each error for a human."""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from tidings.catalog._durations import DURATION_HELP, DURATION_PATTERN
from tidings.catalog._format import structure_schema
from tidings.catalog._issues import CatalogIssue
from tidings.catalog._yaml import ParsedFile, Path

_VALIDATOR = Draft202012Validator(structure_schema())


@cache
def _fast() -> Any:
    """The same schema compiled by jsonschema-rs, only to skip `_VALIDATOR` on valid files (built
    on first use: commands that load no catalog do not pay for it). Its patterns are ASCII
    classes, where Rust's regex is never more lenient than Python's `re`."""
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(structure_schema(), validate_formats=False)

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def yaml_type(value: Any) -> str:
    """How a YAML user would call the type of `value`."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    return f"{value!r}"


def did_you_mean(word: str, choices: list[str]) -> str:
    """` (did you mean 'x'?)` when a choice is close to `word`, else ``."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f" (did you mean {close[0]!r}?)" if close else ""


def dotted(path: Path) -> str:
    """`events.shipmentCreated.retry` for a path in a catalog file."""
    return ".".join(str(p) for p in path)


def _expected(schema_type: Any) -> str:
    types = schema_type if isinstance(schema_type, list) else [schema_type]
    return " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)


def _issue(parsed: ParsedFile, path: Path, message: str, *, key: bool = False) -> CatalogIssue:
    return CatalogIssue(location=parsed.location(path, key=key), path=dotted(path), message=message)


def _kind(path: Path) -> str:
    if path and path[0] == "commands":
        return "command"
    if path and path[0] == "events":
        return "event"
    return ""


def _word(parsed: ParsedFile, error: ValidationError) -> list[CatalogIssue]:
    path: Path = tuple(error.absolute_path)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    is_duration = schema.get("pattern") == DURATION_PATTERN
    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(schema.get("properties", {}))
        issues = []
        for extra in sorted(set(instance) - set(allowed)):
            where = (*path, extra)
            if extra == "consumers" and _kind(path) == "command" and len(path) == 2:
                message = (
                    "a command has exactly one handling context; write `handler: <context>` "
                    "instead of `consumers`"
                )
            elif extra == "handler" and _kind(path) == "event" and len(path) == 2:
                message = (
                    "an event has no handler; list the contexts that react under `consumers`, "
                    "or move it under `commands:` if it asks one context to act"
                )
            else:
                message = (
                    f"unknown key{did_you_mean(extra, allowed)}; allowed keys: "
                    + ", ".join(allowed)
                )
                node = parsed.values.get(path)
                if instance[extra] is None and getattr(node, "flow_style", False):
                    message += "; inside `{...}` a comma separates keys: quote text with commas"
            issues.append(_issue(parsed, where, message, key=True))
        return issues
    if validator == "required" and isinstance(instance, dict):
        missing = [r for r in schema.get("required", []) if r not in instance]
        issues = []
        for name in missing:
            if name == "handler":
                message = (
                    "a command needs exactly one handler; add `handler: <context>` "
                    "(the one context that handles it)"
                )
            elif name == "payload":
                message = (
                    "missing `payload`; add the payload's JSON Schema "
                    "(for a message without data: `payload: {type: object}`)"
                )
            else:
                message = f"missing required key `{name}`; add it"
            issues.append(_issue(parsed, path, message, key=True))
        return issues
    if validator == "type":
        if path and path[-1] == "handler" and isinstance(instance, list):
            message = (
                "a command has exactly one handler; write one context name, not a list "
                "(use an event for several consumers)"
            )
        elif is_duration:
            message = f"{yaml_type(instance)} is not a duration; {DURATION_HELP}"
        else:
            message = f"expected {_expected(schema.get('type'))}, got {yaml_type(instance)}"
            if schema.get("type") == "array" and isinstance(instance, str):
                message += f"; write a list: [{instance}]"
            if path and path[0] in ("events", "commands") and len(path) == 2:
                message += "; write its keys (payload, producers, ...) indented below its name"
            elif len(path) == 1 and path[0] in ("contexts", "events", "commands", "$defs"):
                message += f"; write `{path[0]}:` followed by indented `name: ...` entries"
        return [_issue(parsed, path, message)]
    if validator == "pattern" and path and path[-1] == "previous" and isinstance(instance, str):
        return [_issue(parsed, (*path, instance),
                       f"{instance!r} is not a version; write the older version as `v1`, `v2`, ...",
                       key=True)]
    if validator in ("pattern", "minimum") and is_duration:
        return [_issue(parsed, path, f"{instance!r} is not a duration; {DURATION_HELP}")]
    if validator == "enum":
        choices = [str(c) for c in schema.get("enum", [])]
        hint = did_you_mean(str(instance), choices)
        last = path[-1] if path else None
        what = {"compatibility": "a compatibility mode", "transport": "a transport"}.get(
            str(last), "allowed")
        fix = "; use one of: " + ", ".join(choices)
        shown = repr(instance)
        if last == "transport":
            fix += " (or remove `transport` for a context that runs in this process)"
            if not isinstance(instance, str):
                shown, hint = yaml_type(instance), ""
        return [_issue(parsed, path, f"{shown} is not {what}{hint}{fix}")]
    if validator == "uniqueItems" and isinstance(instance, list):
        seen: set[Any] = set()
        issues = []
        for index, item in enumerate(instance):
            marker = repr(item)
            if marker in seen:
                issues.append(
                    _issue(parsed, (*path, index), f"{item!r} is listed twice; list it once")
                )
            seen.add(marker)
        return issues
    if validator == "minimum":
        return [
            _issue(parsed, path, f"{instance!r} is too small; use {schema['minimum']} or more")
        ]
    return [_issue(parsed, path, f"{error.message}; fix the value")]  # pragma: no cover


def structure_issues(parsed: ParsedFile) -> list[CatalogIssue]:
    """Every way `parsed` breaks the catalog file format, worded with a fix."""
    issues: list[CatalogIssue] = []
    try:
        if _fast().is_valid(parsed.data):
            return issues
    except Exception:  # values Rust cannot take (huge integers, ...): let jsonschema judge
        pass
    for error in _VALIDATOR.iter_errors(parsed.data):
        issues.extend(_word(parsed, error))
    return issues
