"""The catalog file format, itself a JSON Schema (what `tidings schema` prints)."""

from __future__ import annotations

import copy
from typing import Any

from tidings.catalog._durations import DURATION_PATTERN
from tidings.catalog._keywords import FORMATS
from tidings.catalog._model import JSON_SCHEMA_DIALECT, Compatibility

_TYPES = ["array", "boolean", "integer", "null", "number", "object", "string"]


def _json_schema() -> dict[str, Any]:
    """A self-contained description of the payload keywords tidings accepts, for editors
    (completion, hover, typo warnings) with no network; tidings itself also checks payloads
    against the official 2020-12 meta-schema."""
    sub: dict[str, Any] = {"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/schema"}]}
    schema_map: dict[str, Any] = {"type": "object", "additionalProperties": sub}
    schema_list: dict[str, Any] = {"type": "array", "items": sub}
    count: dict[str, Any] = {"type": "integer", "minimum": 0}
    properties: dict[str, Any] = {
        "type": {
            "description": "The JSON type(s) of the value.",
            "anyOf": [
                {"enum": _TYPES},
                {"type": "array", "items": {"enum": _TYPES}, "uniqueItems": True},
            ],
        },
        "$ref": {
            "type": "string",
            "description": "`#/$defs/Name`, `other.yaml#/$defs/Name` or a schema file "
            "`payloads/order.schema.json` (relative to this file, or to the `$id`).",
        },
        "$comment": {"type": "string"},
        "$schema": {"type": "string", "description": "The draft: 2020-12 (default), 2019-09 or 7."},
        "$id": {"type": "string"},
        "$anchor": {"type": "string"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "default": {},
        "examples": {"type": "array"},
        "deprecated": {"type": "boolean"},
        "readOnly": {"type": "boolean"},
        "writeOnly": {"type": "boolean"},
        "enum": {"type": "array", "description": "The allowed values."},
        "const": {},
        "format": {"enum": sorted(FORMATS)},
        "pattern": {"type": "string", "description": "A regular expression."},
        "multipleOf": {"type": "number", "exclusiveMinimum": 0},
        "maximum": {"type": "number"},
        "exclusiveMaximum": {"type": "number"},
        "minimum": {"type": "number"},
        "exclusiveMinimum": {"type": "number"},
        "maxLength": count,
        "minLength": count,
        "maxItems": count,
        "minItems": count,
        "maxContains": count,
        "minContains": count,
        "maxProperties": count,
        "minProperties": count,
        "uniqueItems": {"type": "boolean"},
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "dependentRequired": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "contentEncoding": {"type": "string"},
        "contentMediaType": {"type": "string"},
        "properties": schema_map,
        "patternProperties": schema_map,
        "dependentSchemas": schema_map,
        "$defs": schema_map,
        "definitions": schema_map,
        "allOf": schema_list,
        "anyOf": schema_list,
        "oneOf": schema_list,
        "prefixItems": schema_list,
    }
    for keyword in ("additionalProperties", "items", "contains", "propertyNames", "not", "if",
                    "then", "else", "unevaluatedItems", "unevaluatedProperties",
                    "contentSchema"):
        properties[keyword] = sub
    return {
        "type": "object",
        "description": "A JSON Schema 2020-12 (custom annotations start with `x-`).",
        "properties": properties,
        "patternProperties": {"^x-": {}},
        "additionalProperties": False,
    }


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

PREVIOUS_KEY = "^v[1-9][0-9]*$"
"""The keys of a message's `previous` mapping: `v1`, `v2`, ..."""

TRANSPORTS = ("nats", "sns-sqs")
"""The brokers a context can be declared remote on (`contexts: {metis: {transport: nats}}`)."""

_MESSAGE_COMMON: dict[str, Any] = {
    "description": {"type": "string", "description": "What happened / what is asked."},
    "version": {"type": "integer", "minimum": 1, "description": "Bump on a breaking change."},
    "deprecated": {"type": "boolean"},
    "producers": {**_NAME_LIST, "description": "Contexts that emit this message."},
    "payload": {"$ref": "#/$defs/payload"},
    "retry": {"$ref": "#/$defs/retry"},
    "compatibility": {"$ref": "#/$defs/compatibility"},
    "previous": {
        "type": "object",
        "description": (
            "The payloads of older versions, by version (`v1: {payload: ...}`), kept so that "
            "stored messages of those versions stay readable: the generated code has their "
            "models (`models.v1.OrderPlaced`) for typed upcasters."
        ),
        "propertyNames": {"pattern": PREVIOUS_KEY},
        "additionalProperties": {"$ref": "#/$defs/previous"},
    },
    "distributed": {
        "type": "boolean",
        "description": (
            "The message crosses process boundaries: relayed to the broker on subject "
            "`tidings.<catalog>.<name>` (default false; also true when a producer, consumer or "
            "handler context has a `transport`)."
        ),
    },
}

_FORMAT: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
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
                "transport": {
                    "description": (
                        "The context runs as its own service, reached through this broker: every "
                        "message it produces, consumes or handles is distributed."
                    ),
                    "enum": list(TRANSPORTS),
                },
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
        "previous": {
            "type": "object",
            "description": "An older version of the message: its payload as it was then.",
            "additionalProperties": False,
            "required": ["payload"],
            "properties": {
                "description": {"type": "string"},
                "payload": {"$ref": "#/$defs/payload"},
            },
        },
        "payload": {
            "description": "The message payload: a JSON Schema 2020-12 object.",
            "type": "object",
            "allOf": [{"$ref": "#/$defs/schema"}],
        },
        "schema": _json_schema(),
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
