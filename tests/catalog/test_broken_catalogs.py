"""Broken catalogs: each gives exactly these messages (file:line:col, place, pointer, fix), all
of them at once, sorted by file and line; loading from disk and from texts agree."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tidings._errors import UserError
from tidings.catalog import CatalogError, load_catalog, load_catalog_texts

HEAD = "catalog: t\ncontexts: {core: {}, email: {}}\n"


def one(body: str) -> dict[str, str]:
    """A one-file catalog: the usual head plus `body`."""
    return {"c.yaml": HEAD + dedent(body)}


CASES = [
    pytest.param(
        one("events:\n  a: [\n"),
        "schemas/c.yaml:5:1: invalid YAML: expected the node content, but found '<stream end>' "
        "(while parsing a flow node); close the `{` or `[`, and quote text that contains "
        ", [ ] { }",
        id="yaml-unclosed-bracket",
    ),
    pytest.param(
        one("events:\n\tx: 1\n"),
        "schemas/c.yaml:4:1: invalid YAML: found character '\\t' that cannot start any token "
        "(while scanning for the next token); indent with spaces, not tabs",
        id="yaml-tab",
    ),
    pytest.param(
        one("description: a: b\n"),
        "schemas/c.yaml:3:15: invalid YAML: mapping values are not allowed here; quote values "
        "that contain ': ' and check the indentation",
        id="yaml-colon-in-value",
    ),
    pytest.param(
        {"c.yaml": 'catalog: t\ndescription: "abc\n\nevents: {}\n'},
        "schemas/c.yaml:5:1: invalid YAML: found unexpected end of stream (while scanning a "
        "quoted scalar at line 2); add the missing closing quote",
        id="yaml-unclosed-quote",
    ),
    pytest.param(
        one("""\
            events:
              a: {payload: {type: object}}
              a: {payload: {type: string}}
            """),
        "schemas/c.yaml:5:3: duplicate key 'a' (first at line 4); keep one of them",
        id="yaml-duplicate-key",
    ),
    pytest.param(
        {"c.yaml": "- a\n"},
        "schemas/c.yaml:1:1: a catalog file is a mapping with the keys catalog, description, "
        "contexts, defaults, events, commands and $defs; start the file with one of them",
        id="top-level-list",
    ),
    pytest.param(
        one("---\nevents: {}\n"),
        "schemas/c.yaml:4:1: a catalog file holds one YAML document; move this one to its own "
        "file",
        id="two-documents",
    ),
    pytest.param(
        one("event:\n  a: {}\n"),
        "schemas/c.yaml:3:1: event: unknown key (did you mean 'events'?); allowed keys: $defs, "
        "catalog, commands, contexts, defaults, description, events",
        id="unknown-top-level-key",
    ),
    pytest.param(
        one("""\
            events:
              shipmentCreated:
                producers: [core]
                consumer: [email]
                payload: {type: object}
            """),
        "schemas/c.yaml:6:5: events.shipmentCreated.consumer: unknown key (did you mean "
        "'consumers'?); allowed keys: compatibility, consumers, deprecated, description, "
        "distributed, payload, previous, producers, retry, version",
        id="unknown-message-key",
    ),
    pytest.param(
        {"c.yaml": "catalog: t\ncontexts:\n  core: {description: Core (a, b), owner: x}\n"},
        "schemas/c.yaml:3:32: contexts.core.b): unknown key; allowed keys: description, owner, "
        "transport; inside `{...}` a comma separates keys: quote text with commas",
        id="unquoted-comma-in-flow-mapping",
    ),
    pytest.param(
        one("""\
            events:
              shipmentCreated:
                producers: [core]
                payload:
                  type: object
                  properties:
                    id: {type: strin}
            """),
        "schemas/c.yaml:9:20: events.shipmentCreated.payload /properties/id/type: 'strin' is "
        "not a JSON type (did you mean 'string'?); use one of: array, boolean, integer, null, "
        "number, object, string",
        id="payload-bad-type",
    ),
    pytest.param(
        one("events:\n  a:\n    payload:\n      type: object\n      properties:\n"
            "        n: {type: [integer, nul], nullable: true, example: 3, format: uuid4}\n"),
        "schemas/c.yaml:8:19: events.a.payload /properties/n/type: 'nul' is not a JSON type "
        "(did you mean 'null'?); use one of: array, boolean, integer, null, number, object, "
        "string\n"
        "schemas/c.yaml:8:35: events.a.payload /properties/n/nullable: `nullable` is OpenAPI, "
        "not JSON Schema, and means nothing here; add 'null' to the `type` list "
        "(`type: [string, 'null']`)\n"
        "schemas/c.yaml:8:51: events.a.payload /properties/n/example: `example` is OpenAPI and "
        "means nothing here; write `examples: [...]`\n"
        "schemas/c.yaml:8:71: events.a.payload /properties/n/format: unknown format 'uuid4' "
        "(did you mean 'uuid'?), an annotation only; use one of: date, date-time, duration, "
        "email, hostname, idn-email, idn-hostname, ipv4, ipv6, iri, iri-reference, json-pointer, "
        "regex, relative-json-pointer, time, uri, uri-reference, uri-template, uuid (describe "
        "other values with `pattern`)",
        id="openapi-isms-and-unknown-format",
    ),
    pytest.param(
        one("events:\n  a:\n    payload:\n      $schema: http://json-schema.org/draft-07/schema#\n"
            "      type: array\n      items: [{type: string}]\n      additionalItems: false\n"
            "      minItems: 1\n      exclusiveMinimum: true\n"),
        "schemas/c.yaml:11:25: events.a.payload /exclusiveMinimum: `exclusiveMinimum: true` is "
        "draft 4; in JSON Schema 2020-12 `exclusiveMinimum` holds the bound itself: move the "
        "number from `minimum` to `exclusiveMinimum`",
        id="draft-7-payload-checked-by-its-own-meta-schema",
    ),
    pytest.param(
        one("events:\n  a:\n    payload:\n"
            "      type: array\n      items: [{type: string}]\n      additionalItems: false\n"),
        "schemas/c.yaml:7:14: events.a.payload /items: a list under `items` is draft 7; in JSON "
        "Schema 2020-12 write `prefixItems: [...]` (and `items: false` to allow no more)\n"
        "schemas/c.yaml:8:7: events.a.payload /additionalItems: `additionalItems` is draft 7 and "
        "means nothing in 2020-12: `items` applies after `prefixItems` (write `items: false` or a "
        "schema), or declare `$schema` draft 7",
        id="draft-7-keywords-in-a-2020-12-payload",
    ),
    pytest.param(
        one("events:\n  a:\n    payload:\n      $schema: http://json-schema.org/draft-04/schema#\n"
            "      type: object\n"),
        "schemas/c.yaml:6:16: events.a.payload /$schema: 'http://json-schema.org/draft-04/schema#' "
        "is no JSON Schema draft tidings reads; write one of: "
        "http://json-schema.org/draft-07/schema, https://json-schema.org/draft/2019-09/schema, "
        "https://json-schema.org/draft/2020-12/schema (or remove `$schema` for 2020-12)",
        id="unsupported-draft",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {type: object, additionalProperties: no}\n"),
        "schemas/c.yaml:5:51: events.a.payload /additionalProperties: 'no' is not a schema; "
        "write a mapping (or true/false) (YAML 1.2: only true and false are booleans)",
        id="yaml-1.1-boolean",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {type: object, required: id}\n"),
        "schemas/c.yaml:5:39: events.a.payload /required: 'id' is not a list; write a list here",
        id="payload-required-not-a-list",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {type: string, pattern: '(['}\n"),
        "schemas/c.yaml:5:38: events.a.payload /pattern: '([' is not a valid regular "
        "expression; fix the pattern",
        id="payload-bad-regex",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {type: integer, minimum: '5'}\n"),
        "schemas/c.yaml:5:39: events.a.payload /minimum: '5' is not a number; write a number "
        "here",
        id="payload-minimum-is-text",
    ),
    pytest.param(
        one("events:\n  a:\n    payload:\n      type: object\n      required: [shipmentID]\n"
            "      properties: {shipmentId: {type: string}}\n"),
        "schemas/c.yaml:7:18: events.a.payload /required/0: 'shipmentID' is required but not "
        "declared under `properties` (did you mean 'shipmentId'?); declare it or fix the name",
        id="required-but-undeclared",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {tpye: object}\n"),
        "schemas/c.yaml:5:15: events.a.payload /tpye: unknown JSON Schema keyword 'tpye' (did "
        "you mean 'type'?) (draft 2020-12): an annotation without effect; fix the spelling, or "
        "prefix custom annotations with `x-`",
        id="payload-unknown-keyword",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {$ref: '#/$defs/Mony'}\n"
            "$defs:\n  Money: {type: string}\n"),
        "schemas/c.yaml:5:21: events.a.payload /$ref: cannot resolve $ref '#/$defs/Mony': this "
        "file has nothing at '/$defs/Mony' (did you mean '#/$defs/Money'?); its $defs are: Money",
        id="ref-unknown-local-definition",
    ),
    pytest.param(
        {
            "c.yaml": HEAD + "events:\n  a:\n    payload: {$ref: 'comon.yaml#/$defs/Money'}\n",
            "common.yaml": "$defs:\n  Money: {type: string}\n",
        },
        "schemas/c.yaml:5:21: events.a.payload /$ref: cannot resolve $ref "
        "'comon.yaml#/$defs/Money': there is no catalog file 'comon.yaml' (did you mean "
        "'common.yaml'?); refer to a file of the catalog, relative to this one",
        id="ref-unknown-file",
    ),
    pytest.param(
        {
            "c.yaml": HEAD + "events:\n  a:\n    payload: {$ref: 'common.yaml#/$defs/Mony'}\n",
            "common.yaml": "$defs:\n  Money: {type: string}\n  Port: {type: string}\n",
        },
        "schemas/c.yaml:5:21: events.a.payload /$ref: cannot resolve $ref "
        "'common.yaml#/$defs/Mony': 'common.yaml' has nothing at '/$defs/Mony' (did you mean "
        "'common.yaml#/$defs/Money'?); its $defs are: Money, Port",
        id="ref-unknown-definition-in-other-file",
    ),
    pytest.param(
        one("events:\n  a:\n    payload: {$ref: 'https://example.com/x.json'}\n"),
        "schemas/c.yaml:5:21: events.a.payload /$ref: cannot resolve $ref "
        "'https://example.com/x.json': no schema file of the catalog has the `$id` "
        "'https://example.com/x.json', and tidings never fetches remote schemas; put the schema "
        "file below the catalog directory (its `$id` is found there)",
        id="ref-remote",
    ),
    pytest.param(
        one("""\
            events:
              a:
                producers: [core, emial]
                consumers: [tasks]
                payload: {type: object}
            """),
        "schemas/c.yaml:5:23: events.a.producers.1: unknown context 'emial' (did you mean "
        "'email'?); declare it under `contexts:` or use one of: core, email\n"
        "schemas/c.yaml:6:17: events.a.consumers.0: unknown context 'tasks'; declare it under "
        "`contexts:` or use one of: core, email",
        id="unknown-contexts",
    ),
    pytest.param(
        one("commands:\n  doIt:\n    handler: emails\n    payload: {type: object}\n"),
        "schemas/c.yaml:5:14: commands.doIt.handler: unknown context 'emails' (did you mean "
        "'email'?); declare it under `contexts:` or use one of: core, email",
        id="unknown-handler",
    ),
    pytest.param(
        one("commands:\n  doIt:\n    producers: [core]\n    payload: {type: object}\n"),
        "schemas/c.yaml:4:3: commands.doIt: a command needs exactly one handler; add "
        "`handler: <context>` (the one context that handles it)",
        id="command-without-handler",
    ),
    pytest.param(
        one("commands:\n  doIt:\n    handler: [core, email]\n    payload: {type: object}\n"),
        "schemas/c.yaml:5:14: commands.doIt.handler: a command has exactly one handler; write "
        "one context name, not a list (use an event for several consumers)",
        id="command-with-two-handlers",
    ),
    pytest.param(
        one("commands:\n  doIt:\n    handler: core\n    consumers: [email]\n"
            "    payload: {type: object}\n"),
        "schemas/c.yaml:6:5: commands.doIt.consumers: a command has exactly one handling "
        "context; write `handler: <context>` instead of `consumers`",
        id="command-with-consumers",
    ),
    pytest.param(
        {
            "a.yaml": HEAD + "events:\n  x: {payload: {type: object}}\n",
            "b.yaml": "commands:\n  x: {handler: core, payload: {type: object}}\n",
        },
        "schemas/b.yaml:2:3: commands.x: 'x' is already declared as an event at "
        "schemas/a.yaml:4:3; names are unique across the catalog's files",
        id="duplicate-name-across-files",
    ),
    pytest.param(
        {"a.yaml": HEAD + "$defs: {Money: {type: string}}\n",
         "b.yaml": "$defs:\n  Money: {type: number}\n"},
        "schemas/b.yaml:2:3: $defs.Money: definition 'Money' is already declared at "
        "schemas/a.yaml:3:9; definition names are unique across the catalog's files",
        id="duplicate-definition-across-files",
    ),
    pytest.param(
        {"a.yaml": HEAD, "b.yaml": "contexts: {core: {}}\n"},
        "schemas/b.yaml:1:12: contexts.core: context 'core' is already declared at "
        "schemas/a.yaml:2:12; declare it once",
        id="duplicate-context",
    ),
    pytest.param(
        one("events:\n  class: {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.class: event name 'class' is a Python keyword; choose "
        "another name",
        id="python-keyword",
    ),
    pytest.param(
        one("events:\n  None: {payload: {type: object}}\n  Class: {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.None: event name 'None' is a Python keyword; choose another "
        "name\n"
        "schemas/c.yaml:5:3: events.Class: event name 'Class' becomes the Python name 'class', "
        "a keyword; choose another name",
        id="keyword-after-conversion",
    ),
    pytest.param(
        one("events:\n  baseModel: {payload: {type: object}}\n$defs:\n  None_: {type: string}\n"),
        "schemas/c.yaml:4:3: events.baseModel: event name 'baseModel' becomes the model name "
        "'BaseModel', which generated code imports from pydantic, typing or the standard "
        "library; choose another name\n"
        "schemas/c.yaml:6:3: $defs.None_: definition name 'None_' becomes the Python name "
        "'None', a keyword; choose another name",
        id="reserved-model-names",
    ),
    pytest.param(
        one("events:\n  \"__import__('os')\": {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.__import__('os'): event name \"__import__('os')\" contains "
        "'('; names use ASCII letters, digits and underscores and start with a letter (e.g. "
        "shipmentCreated)",
        id="hostile-import-name",
    ),
    pytest.param(
        one("commands:\n  a-b: {handler: core, payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: commands.a-b: command name 'a-b' contains '-'; names use ASCII "
        "letters, digits and underscores and start with a letter (e.g. shipmentCreated)",
        id="name-with-dash",
    ),
    pytest.param(
        one("events:\n  1stShipment: {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.1stShipment: event name '1stShipment' starts with a digit; "
        "names use ASCII letters, digits and underscores and start with a letter (e.g. "
        "shipmentCreated)",
        id="name-starting-with-digit",
    ),
    pytest.param(
        one("events:\n  __init__: {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.__init__: event name '__init__' starts with an underscore; "
        "names use ASCII letters, digits and underscores and start with a letter (e.g. "
        "shipmentCreated)",
        id="dunder-name",
    ),
    pytest.param(
        one("events:\n  shipment\u0421reated: {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.shipment\u0421reated: event name 'shipment\u0421reated' "
        "contains the non-ASCII character '\u0421' (U+0421 CYRILLIC CAPITAL LETTER ES); names "
        "use ASCII letters, digits and underscores and start with a letter (e.g. "
        "shipmentCreated)",
        id="unicode-lookalike",
    ),
    pytest.param(
        one('events:\n  "a\\nb": {payload: {type: object}}\n'),
        "schemas/c.yaml:4:3: events.a\\nb: event name 'a\\nb' contains '\\n'; names use ASCII "
        "letters, digits and underscores and start with a letter (e.g. shipmentCreated)",
        id="control-character-stays-on-one-line",
    ),
    pytest.param(
        one("events:\n  'a b': {payload: {type: object}}\n"),
        "schemas/c.yaml:4:3: events.a b: event name 'a b' contains ' '; names use ASCII "
        "letters, digits and underscores and start with a letter (e.g. shipmentCreated)",
        id="name-with-space",
    ),
    pytest.param(
        one("""\
            events:
              shipmentCreated: {payload: {type: object}}
              ShipmentCreated: {payload: {type: object}}
              shipment_created: {payload: {type: object}}
            """),
        "schemas/c.yaml:5:3: events.ShipmentCreated: 'ShipmentCreated' and 'shipmentCreated' "
        "(at schemas/c.yaml:4:3) both become the Python names 'ShipmentCreated' and "
        "'shipment_created'; rename one of them\n"
        "schemas/c.yaml:6:3: events.shipment_created: 'shipment_created' and 'shipmentCreated' "
        "(at schemas/c.yaml:4:3) both become the Python names 'ShipmentCreated' and "
        "'shipment_created'; rename one of them",
        id="names-collide-after-conversion",
    ),
    pytest.param(
        one("events:\n  money: {payload: {type: object}}\n$defs:\n  Money: {type: string}\n"),
        "schemas/c.yaml:6:3: $defs.Money: 'Money' and 'money' (at schemas/c.yaml:4:3) both "
        "become the Python name 'Money'; rename one of them",
        id="definition-collides-with-model",
    ),
    pytest.param(
        one("defaults:\n  retry: {initial_delay: 5 minutes, max_delay: -1}\n"),
        "schemas/c.yaml:4:26: defaults.retry.initial_delay: '5 minutes' is not a duration; "
        "write a number of seconds or a number with a unit: 500ms, 1s, 5m, 1h\n"
        "schemas/c.yaml:4:48: defaults.retry.max_delay: -1 is not a duration; write a number "
        "of seconds or a number with a unit: 500ms, 1s, 5m, 1h",
        id="bad-durations",
    ),
    pytest.param(
        one("events:\n  a:\n    retry: {initial_delay: 1d}\n    payload: {type: object}\n"),
        "schemas/c.yaml:5:28: events.a.retry.initial_delay: '1d' is not a duration; write a "
        "number of seconds or a number with a unit: 500ms, 1s, 5m, 1h",
        id="bad-duration-unit",
    ),
    pytest.param(
        one("defaults:\n  retry: {initial_delay: .nan, max_delay: .inf}\n"),
        "schemas/c.yaml:4:26: defaults.retry.initial_delay: nan is not a duration; write a "
        "number of seconds or a number with a unit: 500ms, 1s, 5m, 1h\n"
        "schemas/c.yaml:4:43: defaults.retry.max_delay: inf is not a duration; write a number "
        "of seconds or a number with a unit: 500ms, 1s, 5m, 1h",
        id="non-finite-durations",
    ),
    pytest.param(
        one("defaults:\n  retry: {initial_delay: 10m, max_delay: 1m}\n"),
        "schemas/c.yaml:4:10: defaults.retry: max_delay (60s) is shorter than initial_delay "
        "(600s); raise max_delay or lower initial_delay",
        id="max-delay-below-initial-delay",
    ),
    pytest.param(
        one("defaults:\n  retry: {max_attempts: 0, jitter: maybe}\n"),
        "schemas/c.yaml:4:25: defaults.retry.max_attempts: 0 is too small; use 1 or more\n"
        "schemas/c.yaml:4:36: defaults.retry.jitter: expected true or false, got text 'maybe'",
        id="bad-retry-values",
    ),
    pytest.param(
        one("defaults:\n  compatibility: BACKWARDS\n"
            "events:\n  a: {compatibility: full, payload: {type: object}}\n"),
        "schemas/c.yaml:4:18: defaults.compatibility: 'BACKWARDS' is not a compatibility mode "
        "(did you mean 'BACKWARD'?); use one of: NONE, BACKWARD, FORWARD, FULL, "
        "BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, FULL_TRANSITIVE\n"
        "schemas/c.yaml:6:22: events.a.compatibility: 'full' is not a compatibility mode (did "
        "you mean 'FULL'?); use one of: NONE, BACKWARD, FORWARD, FULL, BACKWARD_TRANSITIVE, "
        "FORWARD_TRANSITIVE, FULL_TRANSITIVE",
        id="bad-compatibility",
    ),
    pytest.param(
        {"c.yaml": "catalog: t\ncontexts:\n  core: {transport: natz}\n  email: {transport: SQS}\n"
                   "  tasks: {transport: [nats]}\n  metis: {trasnport: nats}\n"},
        "schemas/c.yaml:3:21: contexts.core.transport: 'natz' is not a transport (did you mean "
        "'nats'?); use one of: nats, sns-sqs (or remove `transport` for a context that runs in "
        "this process)\n"
        "schemas/c.yaml:4:22: contexts.email.transport: 'SQS' is not a transport; use one of: "
        "nats, sns-sqs (or remove `transport` for a context that runs in this process)\n"
        "schemas/c.yaml:5:22: contexts.tasks.transport: a list is not a transport; use one "
        "of: nats, sns-sqs (or remove `transport` for a context that runs in this process)\n"
        "schemas/c.yaml:6:11: contexts.metis.trasnport: unknown key (did you mean 'transport'?); "
        "allowed keys: description, owner, transport",
        id="bad-transport",
    ),
    pytest.param(
        {"c.yaml": "catalog: t\ncontexts: {core: {}, email: {}, metis: {transport: nats}}\n"
                   "events:\n  a: {distributed: yes, consumers: [email], payload: {type: object}}\n"
                   "  b:\n    distributed: false\n    producers: [core]\n    consumers: [metis]\n"
                   "    payload: {type: object}\n"
                   "commands:\n  c:\n    distributed: false\n    producers: [metis]\n"
                   "    handler: metis\n    payload: {type: object}\n"},
        "schemas/c.yaml:4:20: events.a.distributed: expected true or false, got text 'yes'\n"
        "schemas/c.yaml:6:18: events.b.distributed: 'b' cannot stay in-process: consumed by "
        "'metis' (transport: nats); remove `distributed: false` (a subscriber that must stay "
        "in-process passes `remote=False` to `on`)\n"
        "schemas/c.yaml:12:18: commands.c.distributed: 'c' cannot stay in-process: produced by "
        "'metis' (transport: nats); remove `distributed: false` (a subscriber that must stay "
        "in-process passes `remote=False` to `on`)",
        id="bad-distributed",
    ),
    pytest.param(
        {"c.yaml": "contexts: {core: {}}\n"},
        "schemas/c.yaml:1:1: no file declares the catalog name; add `catalog: <name>` (the "
        "Python package of the generated code) to one file",
        id="no-catalog-name",
    ),
    pytest.param(
        {"a.yaml": HEAD, "b.yaml": "catalog: u\n"},
        "schemas/b.yaml:1:1: catalog: the catalog name is already declared at "
        "schemas/a.yaml:1:1; declare it in one file only",
        id="two-catalog-names",
    ),
    pytest.param(
        {"a.yaml": HEAD, "b.yaml": "defaults: {compatibility: FULL}\n"},
        "schemas/b.yaml:1:1: defaults: only the file that declares `catalog:` (schemas/a.yaml) "
        "may set `defaults`; move it there",
        id="defaults-outside-the-main-file",
    ),
    pytest.param(
        {"a.yaml": "catalog: My-Catalog\n"},
        "schemas/a.yaml:1:10: catalog: 'My-Catalog' contains '-'; catalog names are Python "
        "module names: lowercase ASCII letters, digits and underscores, starting with a letter "
        "(e.g. tracking)",
        id="bad-catalog-name",
    ),
    pytest.param(
        {"a.yaml": "catalog: json\n"},
        "schemas/a.yaml:1:10: catalog: 'json' is a standard-library module; the generated "
        "package would shadow it, choose another catalog name",
        id="catalog-name-shadows-stdlib",
    ),
    pytest.param(
        {"a.yaml": "catalog: pydantic\n"},
        "schemas/a.yaml:1:10: catalog: 'pydantic' is a package generated code imports; the "
        "generated package would shadow it, choose another catalog name",
        id="catalog-name-shadows-pydantic",
    ),
    pytest.param(
        one("events:\n  a:\n    payload:\n      properties:\n        'a/b~c': {type: strin}\n"),
        "schemas/c.yaml:7:25: events.a.payload /properties/a~1b~0c/type: 'strin' is not a JSON "
        "type (did you mean 'string'?); use one of: array, boolean, integer, null, number, "
        "object, string",
        id="json-pointer-escapes",
    ),
    pytest.param(
        {"a.yaml": "catalog: t\ncontexts: {Core: {}, import: {}}\n"},
        "schemas/a.yaml:2:12: contexts.Core: context name 'Core' has uppercase letters; "
        "context names are Python module names: lowercase ASCII letters, digits and "
        "underscores, starting with a letter (e.g. tracking)\n"
        "schemas/a.yaml:2:22: contexts.import: context name 'import' is a Python keyword; "
        "choose another context name",
        id="bad-context-names",
    ),
    pytest.param(
        {"a.yaml": "catalog: t\ncontexts:\n  \"__import__('os')\": {}\n  '1st': {}\n"
                   "$defs:\n  \"x'); import os; ('\": {type: string}\n"},
        "schemas/a.yaml:3:3: contexts.__import__('os'): context name \"__import__('os')\" "
        "contains '('; context names are Python module names: lowercase ASCII "
        "letters, digits and underscores, starting with a letter (e.g. tracking)\n"
        "schemas/a.yaml:4:3: contexts.1st: context name '1st' starts with a digit; context "
        "names are Python module names: lowercase ASCII letters, digits and underscores, "
        "starting with a letter (e.g. tracking)\n"
        "schemas/a.yaml:6:3: $defs.x'); import os; (': definition name \"x'); import os; ('\" "
        "contains \"'\"; names use ASCII letters, digits and underscores and start with a "
        "letter (e.g. shipmentCreated)",
        id="hostile-context-and-definition-names",
    ),
    pytest.param(
        one("events:\n  a:\n"),
        "schemas/c.yaml:4:5: events.a: expected a mapping, got nothing; write its keys "
        "(payload, producers, ...) indented below its name",
        id="empty-event",
    ),
    pytest.param(
        one("events:\n  a: {producers: [core]}\n"),
        "schemas/c.yaml:4:3: events.a: missing `payload`; add the payload's JSON Schema (for a "
        "message without data: `payload: {type: object}`)",
        id="missing-payload",
    ),
    pytest.param(
        one("events:\n  a: {payload: true}\n"),
        "schemas/c.yaml:4:16: events.a.payload: expected a mapping, got true",
        id="boolean-payload",
    ),
    pytest.param(
        one("events:\n  a: {version: 0, deprecated: 1, payload: {type: object}}\n"),
        "schemas/c.yaml:4:16: events.a.version: 0 is too small; use 1 or more\n"
        "schemas/c.yaml:4:31: events.a.deprecated: expected true or false, got 1",
        id="bad-version-and-deprecated",
    ),
    pytest.param(
        one("events:\n  a:\n    producers: core\n    consumers: core, email\n"
            "    payload: {type: object}\n"),
        "schemas/c.yaml:5:16: events.a.producers: expected a list, got text 'core'; write a "
        "list: [core]\n"
        "schemas/c.yaml:6:16: events.a.consumers: expected a list, got text 'core, email'; "
        "write a list: [core, email]",
        id="context-list-written-as-text",
    ),
    pytest.param(
        one("events:\n  a: {producers: [core, core], payload: {type: object}}\n"),
        "schemas/c.yaml:4:25: events.a.producers.1: 'core' is listed twice; list it once",
        id="context-listed-twice",
    ),
    pytest.param(
        one("description: !!python/object:os.system echo\n"),
        "schemas/c.yaml:3:14: unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system';"
        " remove the tag or quote the value",
        id="python-yaml-tag",
    ),
    pytest.param(
        one("contexts: [core]\n"),
        "schemas/c.yaml:3:1: duplicate key 'contexts' (first at line 2); keep one of them",
        id="contexts-twice",
    ),
    pytest.param(
        {"c.yaml": "catalog: t\ncontexts: [core, email]\n"},
        "schemas/c.yaml:2:11: contexts: expected a mapping, got a list; write `contexts:` "
        "followed by indented `name: ...` entries",
        id="contexts-as-a-list",
    ),
    pytest.param(
        {
            "a.yaml": HEAD + "events:\n  a:\n    producers: [tracking]\n"
            "    payload: {$ref: 'b.yaml#/$defs/X'}\n",
            "b.yaml": "contexts:\n  tracking: {}\n$defs:\n  X: {type: [}\n",
        },
        "schemas/b.yaml:4:14: invalid YAML: expected the node content, but found '}' (while "
        "parsing a flow node); close the `{` or `[`, and quote text that contains , [ ] { }",
        id="broken-file-hides-no-consequences",
    ),
    pytest.param(
        {
            "a.yaml": HEAD + "events:\n  a:\n    payload: {tpye: object}\n  class: {}\n",
            "b.yaml": "events:\n  b: {payload: {$ref: 'a.yaml#/$defs/Nope'}, consumers: [x]}\n",
        },
        "schemas/a.yaml:5:15: events.a.payload /tpye: unknown JSON Schema keyword 'tpye' (did "
        "you mean 'type'?) (draft 2020-12): an annotation without effect; fix the spelling, or "
        "prefix custom annotations with `x-`\n"
        "schemas/a.yaml:6:3: events.class: event name 'class' is a Python keyword; choose "
        "another name\n"
        "schemas/a.yaml:6:3: events.class: missing `payload`; add the payload's JSON Schema "
        "(for a message without data: `payload: {type: object}`)\n"
        "schemas/b.yaml:2:23: events.b.payload /$ref: cannot resolve $ref 'a.yaml#/$defs/Nope':"
        " 'a.yaml' has nothing at '/$defs/Nope'; its $defs are: none\n"
        "schemas/b.yaml:2:58: events.b.consumers.0: unknown context 'x'; declare it under "
        "`contexts:` or use one of: core, email",
        id="all-errors-at-once-sorted",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES)
def test_broken_catalog_message(
    files: dict[str, str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    for name, text in files.items():
        (schemas / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CatalogError) as from_disk:
        load_catalog("schemas", strict_keywords=True)
    assert str(from_disk.value) == expected
    assert isinstance(from_disk.value, UserError)
    with pytest.raises(CatalogError) as from_texts:
        load_catalog_texts(files, root="schemas", strict_keywords=True)
    assert str(from_texts.value) == expected
    issues = from_disk.value.issues
    assert [str(issue) for issue in issues] == expected.split("\n")
    keys = [(i.location.file, i.location.line, i.location.column) for i in issues]
    assert keys == sorted(keys)


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_issue_fields_carry_the_pointer() -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog_texts(CASES[10].values[0], root="schemas")
    (issue,) = caught.value.issues
    assert issue.path == "events.shipmentCreated.payload"
    assert issue.pointer == "/properties/id/type"
    assert (issue.location.file, issue.location.line, issue.location.column) == (
        "schemas/c.yaml", 9, 20,
    )
    assert issue.message.startswith("'strin' is not a JSON type (did you mean 'string'?)")
