"""The catalog file format, itself a JSON Schema (what `tidings schema` prints)."""

from __future__ import annotations

import copy
from typing import Any

from tidings.catalog._durations import DURATION_PATTERN
from tidings.catalog._model import JSON_SCHEMA_DIALECT, Compatibility

FORMAT_ID = "https://tidings.dev/schemas/catalog.schema.json"

_NAME_LIST: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string"},
    "uniqueItems": True,
}


def _duration(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": ["number", "string"],
        "minimum": 0,
        "pattern": DURATION_PATTERN,
        "examples": ["500ms", "1s", "5m", "1h", 30],
    }


_RETRY: dict[str, Any] = {
    "type": "object",
    "description": "How failed deliveries are retried (exponential backoff).",
    "additionalProperties": False,
    "properties": {
        "max_attempts": {"type": "integer", "minimum": 1, "description": "Attempts before dead."},
        "initial_delay": _duration("Delay before the first retry (default 1s)."),
        "max_delay": _duration("Upper bound of the backoff delay (default 5m)."),
        "jitter": {"type": "boolean", "description": "Randomise delays (default true)."},
    },
}

_COMPATIBILITY: dict[str, Any] = {
    "description": "How the payload may evolve (Confluent Schema Registry modes).",
    "enum": [c.value for c in Compatibility],
}

_MESSAGE_COMMON: dict[str, Any] = {
    "description": {"type": "string", "description": "What happened / what is asked."},
    "version": {"type": "integer", "minimum": 1, "description": "Bump on a breaking change."},
    "deprecated": {"type": "boolean"},
    "producers": {**_NAME_LIST, "description": "Contexts that emit this message."},
    "payload": {"$ref": "#/$defs/payload"},
    "retry": {"$ref": "#/$defs/retry"},
    "compatibility": {"$ref": "#/$defs/compatibility"},
}

_FORMAT: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    "$id": FORMAT_ID,
    "title": "tidings event catalog file",
    "description": (
        "One file of a tidings catalog (schemas/*.yaml): contexts, events, commands and "
        "their JSON Schema 2020-12 payloads."
    ),
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "catalog": {
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]*$",
            "description": "Python package name of the generated code (one file declares it).",
        },
        "description": {"type": "string"},
        "contexts": {
            "type": "object",
            "description": "Bounded contexts that produce, consume and handle messages.",
            "additionalProperties": {"$ref": "#/$defs/context"},
        },
        "defaults": {
            "type": "object",
            "additionalProperties": False,
            "description": "Settings every message inherits unless it sets its own.",
            "properties": {
                "compatibility": {"$ref": "#/$defs/compatibility"},
                "retry": {"$ref": "#/$defs/retry"},
            },
        },
        "events": {
            "type": "object",
            "description": "Facts, in the past tense; any number of consumers.",
            "additionalProperties": {"$ref": "#/$defs/event"},
        },
        "commands": {
            "type": "object",
            "description": "Requests; exactly one handling context.",
            "additionalProperties": {"$ref": "#/$defs/command"},
        },
        "$defs": {
            "type": "object",
            "description": "Shared JSON Schema definitions; refer to them with $ref.",
            "additionalProperties": {"$ref": "#/$defs/payload"},
        },
    },
    "$defs": {
        "context": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "description": {"type": "string"},
                "owner": {"type": "string", "description": "Team that owns the context."},
            },
        },
        "event": {
            "type": "object",
            "additionalProperties": False,
            "required": ["payload"],
            "properties": {
                **_MESSAGE_COMMON,
                "consumers": {**_NAME_LIST, "description": "Contexts that react to this event."},
            },
        },
        "command": {
            "type": "object",
            "additionalProperties": False,
            "required": ["handler", "payload"],
            "properties": {
                **_MESSAGE_COMMON,
                "handler": {"type": "string", "description": "The one context that handles it."},
            },
        },
        "retry": _RETRY,
        "compatibility": _COMPATIBILITY,
        "payload": {
            "description": "A JSON Schema 2020-12 (the message payload).",
            "type": "object",
            "$ref": JSON_SCHEMA_DIALECT,
        },
    },
}


def catalog_format_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one catalog YAML file: point yaml-language-server at it.

    Payloads are checked against the JSON Schema 2020-12 meta-schema. A fresh copy each call.
    """
    return copy.deepcopy(_FORMAT)


def structure_schema() -> dict[str, Any]:
    """The format schema without the payload meta-schema (payloads are checked on their own)."""
    schema = catalog_format_schema()
    schema["$defs"]["payload"] = {"type": "object"}
    del schema["properties"]["catalog"]["pattern"]  # names get their own, clearer check
    return schema
