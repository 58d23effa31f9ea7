"""A catalog as an AsyncAPI 3.0 document: channels from the wire names, messages with their
payload schemas in `components`, send/receive operations per context, servers from transports."""

from __future__ import annotations

import copy
from typing import Any

from tidings.catalog import Catalog, MessageDef, RetrySettings

ASYNCAPI_VERSIONS = ("3.0.0",)
"""The AsyncAPI versions `export_asyncapi` writes."""

CORRELATION_HEADER = "Tidings-Correlation-Id"
"""The wire header carrying a message's correlation id (NATS header, SNS/SQS attribute)."""

_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["Nats-Msg-Id", "Tidings-Name", "Tidings-Version", "Tidings-Emitted-At",
                 CORRELATION_HEADER],
    "properties": {
        "Nats-Msg-Id": {"type": "string", "format": "uuid", "description": "The message id."},
        "Tidings-Name": {"type": "string", "description": "The event or command name."},
        "Tidings-Version": {"type": "string", "pattern": "^[0-9]+$",
                            "description": "The message version."},
        "Tidings-Emitted-At": {"type": "string", "format": "date-time"},
        CORRELATION_HEADER: {"type": "string", "format": "uuid",
                             "description": "The thread of execution the message belongs to."},
        "Tidings-Causation-Id": {"type": "string", "format": "uuid",
                                 "description": "The message whose handler sent this one."},
        "Tidings-Producer": {"type": "string", "description": "The producing context."},
    },
}

_SERVERS: dict[str, dict[str, Any]] = {
    "nats": {
        "host": "{host}", "protocol": "nats",
        "description": "The NATS server (JetStream) the distributed contexts share.",
        "variables": {"host": {"default": "127.0.0.1:4222"}},
    },
    "sns-sqs": {
        "host": "sns.{region}.amazonaws.com", "protocol": "sns",
        "description": "AWS SNS (one topic per catalog), each subscriber reading its own SQS queue.",
        "variables": {"region": {"default": "us-east-1"}},
    },
}
_SERVER_IDS = {"nats": "nats", "sns-sqs": "sns"}


def _retry(retry: RetrySettings) -> dict[str, Any]:
    return {"max_attempts": retry.max_attempts, "initial_delay": retry.initial_delay,
            "max_delay": retry.max_delay, "jitter": retry.jitter}


def _components_ref(schema: Any) -> Any:
    """`schema` with every `#/$defs/X` reference pointed at `#/components/schemas/X`."""
    if isinstance(schema, dict):
        out = {k: _components_ref(v) for k, v in schema.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = "#/components/schemas/" + ref[len("#/$defs/"):]
        return out
    if isinstance(schema, list):
        return [_components_ref(v) for v in schema]
    return schema


def _transports(catalog: Catalog, message: MessageDef) -> list[str]:
    return sorted(set(catalog.transports(message).values()))


def _channel(catalog: Catalog, message: MessageDef) -> dict[str, Any]:
    transports = _transports(catalog, message)
    channel: dict[str, Any] = {}
    if not message.distributed:
        channel["address"] = message.name
        channel["x-tidings-local"] = True
    elif transports == ["sns-sqs"]:
        channel["address"] = f"tidings-{catalog.name}"
        channel["x-tidings-filter"] = {"Tidings-Name": message.name}
    else:
        channel["address"] = catalog.subject(message.name)
    if message.description:
        channel["description"] = message.description
    channel["messages"] = {message.name: {"$ref": f"#/components/messages/{message.name}"}}
    if transports:
        channel["servers"] = [{"$ref": f"#/servers/{_SERVER_IDS[t]}"} for t in transports]
    return channel


def _message(catalog: Catalog, message: MessageDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": message.name, "title": message.model_name}
    if message.description:
        out["summary"] = message.description
    out["contentType"] = "application/json"
    out["headers"] = {"$ref": "#/components/schemas/TidingsHeaders"}
    out["payload"] = {"$ref": f"#/components/schemas/{message.model_name}"}
    out["correlationId"] = {"$ref": "#/components/correlationIds/correlation"}
    out["tags"] = [{"name": message.kind}]
    out["x-tidings-kind"] = message.kind
    out["x-eventcatalog-message-type"] = message.kind
    out["x-tidings-version"] = message.version
    out["x-eventcatalog-message-version"] = str(message.version)
    out["x-tidings-compatibility"] = str(message.compatibility)
    out["x-tidings-retry"] = _retry(message.retry)
    if message.deprecated:
        out["x-tidings-deprecated"] = True
    if message.distributed and not catalog.transports(message):
        out["x-tidings-distributed"] = True
    return out


def _operations(message: MessageDef, contexts: set[str] | None) -> dict[str, dict[str, Any]]:
    ops: dict[str, dict[str, Any]] = {}
    roles = [(c, "send", "producer") for c in message.producers]
    if message.kind == "command":
        roles += [(message.handler, "receive", "handler")] if message.handler else []
    else:
        roles += [(c, "receive", "consumer") for c in message.consumers]
    for context, action, role in roles:
        if context is None or (contexts is not None and context not in contexts):
            continue
        ops[f"{context}.{action}.{message.name}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{message.name}"},
            "messages": [{"$ref": f"#/channels/{message.name}/messages/{message.name}"}],
            "tags": [{"name": context}],
            "x-tidings-context": context,
            "x-tidings-role": role,
        }
    return ops


def _document(catalog: Catalog, version: str, info_version: str, contexts: set[str] | None,
              title: str) -> dict[str, Any]:
    messages = [
        m for m in catalog.messages()
        if contexts is None
        or {*m.producers, *m.consumers, *((m.handler,) if m.handler else ())} & contexts
    ]
    info: dict[str, Any] = {"title": title, "version": info_version}
    if catalog.description:
        info["description"] = catalog.description
    tags = []
    for name, ctx in sorted(catalog.contexts.items()):
        if contexts is not None and name not in contexts:
            continue
        tag: dict[str, Any] = {"name": name}
        if ctx.description:
            tag["description"] = ctx.description
        if ctx.owner is not None:
            tag["x-tidings-owner"] = ctx.owner
        if ctx.transport is not None:
            tag["x-tidings-transport"] = ctx.transport
        tags.append(tag)
    if tags:
        info["tags"] = tags
    doc: dict[str, Any] = {"asyncapi": version, "id": f"urn:tidings:{catalog.name}", "info": info}
    doc["x-tidings-catalog"] = catalog.name
    doc["x-tidings-defaults"] = {"compatibility": str(catalog.defaults_compatibility),
                                 "retry": _retry(catalog.defaults_retry)}
    if contexts is not None:
        doc["x-tidings-contexts"] = sorted(contexts)
    used = sorted({t for m in messages for t in _transports(catalog, m)})
    if used:
        doc["servers"] = {_SERVER_IDS[t]: copy.deepcopy(_SERVERS[t]) for t in used}
    doc["defaultContentType"] = "application/json"
    doc["channels"] = {m.name: _channel(catalog, m) for m in messages}
    operations: dict[str, Any] = {}
    for m in messages:
        operations.update(_operations(m, contexts))
    doc["operations"] = operations
    bundle = catalog.bundle()["$defs"]
    wanted = _reachable(bundle, [m.model_name for m in messages]) if contexts is not None else set(bundle)
    schemas = {name: _components_ref(bundle[name]) for name in sorted(wanted)}
    schemas["TidingsHeaders"] = copy.deepcopy(_HEADERS)
    doc["components"] = {
        "schemas": schemas,
        "messages": {m.name: _message(catalog, m) for m in messages},
        "correlationIds": {"correlation": {
            "description": "Carried from message to message through every handler.",
            "location": f"$message.header#/{CORRELATION_HEADER}",
        }},
    }
    return doc


def _reachable(defs: dict[str, Any], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        stack: list[Any] = [defs[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/$defs/"):
                    todo.append(ref[len("#/$defs/"):])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return seen


def export_asyncapi(
    catalog: Catalog, *, version: str = "3.0.0", info_version: str = "1.0.0"
) -> dict[str, Any]:
    """The whole catalog as one AsyncAPI document (a plain JSON-ready dict, keys in a fixed
    order, so that dumping it is deterministic). ValueError for a version not in
    `ASYNCAPI_VERSIONS`."""
    _check_version(version)
    return _document(catalog, version, info_version, None, catalog.name)


def export_asyncapi_per_context(
    catalog: Catalog, *, version: str = "3.0.0", info_version: str = "1.0.0"
) -> dict[str, dict[str, Any]]:
    """One AsyncAPI document per context (its application view: what it sends and receives),
    keyed by context name, sorted."""
    _check_version(version)
    return {name: _document(catalog, version, info_version, {name}, f"{catalog.name}.{name}")
            for name in sorted(catalog.contexts)}


def _check_version(version: str) -> None:
    if version not in ASYNCAPI_VERSIONS:
        raise ValueError(
            f"AsyncAPI {version} is not written; use --version {' or '.join(ASYNCAPI_VERSIONS)}")
