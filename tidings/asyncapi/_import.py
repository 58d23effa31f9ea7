"""An AsyncAPI 2.x or 3.0 document as a tidings catalog: channels and operations become messages
with producers and consumers, payload schemas become the messages' payloads and shared `$defs`;
what a catalog cannot say becomes a warning naming the JSON pointer."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from tidings.catalog import Compatibility, model_name

_TIDINGS_HEADERS = "TidingsHeaders"
_JSON_FORMATS = re.compile(
    r"^application/(vnd\.aai\.asyncapi(\+json|\+yaml)?(;version=[0-9.]+)?"
    r"|schema\+json(;version=draft-0[47])?|schema\+yaml(;version=draft-0[47])?)$")
_NOT_EXPRESSED = ("bindings", "security", "traits", "reply", "parameters")
_PROTOCOLS = {"nats": "nats", "sns": "sns-sqs", "sqs": "sns-sqs"}


class AsyncAPIError(ValueError):
    """The document is not an AsyncAPI 2.x / 3.0 document tidings can read; the message names
    the JSON pointer and the fix."""


@dataclass
class ImportResult:
    """What `import_asyncapi` made: the catalog as YAML-ready data (one file's content) and the
    warnings (each names a JSON pointer of the document) about what the catalog cannot say."""

    catalog: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The catalog name (also the file name the CLI writes: `<name>.yaml`)."""
        return str(self.catalog["catalog"])


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _ptr(*tokens: str) -> str:
    return "".join("/" + _escape(str(t)) for t in tokens)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _module_name(text: str, fallback: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text))
    name = "_".join(w.lower() for w in words)
    if not name:
        return fallback
    return name if name[0].isalpha() else f"{fallback}_{name}"


def _message_name(text: str) -> str:
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", text):
        return text
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]) if words else "message"
    return name if name[0].isalpha() else f"m{name}"


class _Reader:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.warnings: list[str] = []
        self.defs: dict[str, Any] = {}
        self._warned: set[str] = set()

    def warn(self, pointer: str, text: str) -> None:
        if pointer not in self._warned:
            self._warned.add(pointer)
            self.warnings.append(f"{pointer or '/'}: {text}")

    def lookup(self, ref: str, where: str) -> tuple[Any, str] | None:
        """The value a local `$ref` points at, with its pointer; None (and a warning) if it is
        not local or not there."""
        if not ref.startswith("#"):
            self.warn(where, f"external $ref {ref!r} is not followed; inline it or bundle the "
                      "document first (e.g. `asyncapi bundle`)")
            return None
        node: Any = self.doc
        pointer = ref[1:]
        for token in [_unescape(t) for t in pointer.split("/")[1:]]:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise AsyncAPIError(f"{where}: $ref {ref!r} points at nothing; fix the reference")
        return node, pointer

    def deref(self, value: Any, where: str) -> tuple[Any, str]:
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if ref in seen:
                raise AsyncAPIError(f"{where}: $ref {ref!r} refers to itself")
            seen.add(ref)
            found = self.lookup(ref, where)
            if found is None:
                return {}, where
            value, where = found
        return value, where

    def schema(self, value: Any, where: str, stack: tuple[str, ...] = ()) -> Any:
        """A JSON Schema with references to `components/schemas/X` kept as `#/$defs/X` (and X
        collected), other local references inlined."""
        if isinstance(value, list):
            return [self.schema(v, f"{where}/{i}", stack) for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        ref = value.get("$ref")
        if isinstance(ref, str):
            prefix = "#/components/schemas/"
            if ref.startswith(prefix) and "/" not in ref[len(prefix):]:
                name = _unescape(ref[len(prefix):])
                self.collect(name)
                rest = {k: self.schema(v, f"{where}/{_escape(k)}", stack)
                        for k, v in value.items() if k != "$ref"}
                return {"$ref": f"#/$defs/{name}", **rest}
            if ref in stack:
                self.warn(where, f"recursive $ref {ref!r} outside components/schemas is not "
                          "followed; move the schema under components/schemas")
                return {}
            found = self.lookup(ref, where)
            if found is None:
                return {}
            return self.schema(found[0], found[1], (*stack, ref))
        return {k: self.schema(v, f"{where}/{_escape(k)}", stack) for k, v in value.items()}

    def collect(self, name: str) -> None:
        if name in self.defs:
            return
        self.defs[name] = {}
        raw = (self.doc.get("components") or {}).get("schemas", {}).get(name)
        if raw is None:
            raise AsyncAPIError(f"/components/schemas/{_escape(name)} is referenced but missing")
        self.defs[name] = self.schema(raw, _ptr("components", "schemas", name))

    def payload(self, message: dict[str, Any], where: str, version: int) -> Any:
        raw = message.get("payload")
        if raw is None:
            self.warn(f"{where}/payload", "no payload: the message takes an empty object")
            return {"type": "object"}
        fmt = message.get("schemaFormat")
        raw_where = f"{where}/payload"
        if version >= 3 and isinstance(raw, dict) and "schemaFormat" in raw and "schema" in raw:
            fmt, raw, raw_where = raw["schemaFormat"], raw["schema"], f"{raw_where}/schema"
        if fmt is not None and not _JSON_FORMATS.match(str(fmt)):
            self.warn(raw_where, f"schema format {fmt!r} is not JSON Schema; the payload is "
                      "left open (any object): write it as JSON Schema")
            return {"type": "object"}
        prefix = "#/components/schemas/"
        ref = raw.get("$ref") if isinstance(raw, dict) else None
        if isinstance(ref, str) and ref.startswith(prefix) and len(raw) == 1:
            name = _unescape(ref[len(prefix):])
            target = (self.doc.get("components") or {}).get("schemas", {}).get(name)
            if target is None:
                raise AsyncAPIError(f"{raw_where}: $ref {ref!r} points at nothing; fix it")
            return self.schema(target, _ptr("components", "schemas", name))
        return self.schema(raw, raw_where)

    def not_expressed(self, node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return
        for key in _NOT_EXPRESSED:
            if node.get(key):
                self.warn(f"{where}/{key}", f"{key} cannot be expressed in a tidings catalog; "
                          "left out")


@dataclass
class _Msg:
    name: str
    kind: str = "event"
    body: dict[str, Any] = field(default_factory=dict)
    producers: list[str] = field(default_factory=list)
    receivers: list[str] = field(default_factory=list)
    pointer: str = ""


def _add(lst: list[str], item: str) -> None:
    if item not in lst:
        lst.append(item)


def import_asyncapi(doc: Any) -> ImportResult:
    """The catalog an AsyncAPI 2.x or 3.0 document describes. Documents written by
    `export_asyncapi` come back as the catalog they were made from. Raises `AsyncAPIError` for a
    document that is not AsyncAPI 2.x / 3.0."""
    if not isinstance(doc, dict) or not isinstance(doc.get("asyncapi"), str):
        raise AsyncAPIError("/asyncapi: not an AsyncAPI document (no `asyncapi` version field)")
    spec = doc["asyncapi"]
    if not re.match(r"^(2\.[0-6]|3\.[01])\.[0-9]+$", spec):
        raise AsyncAPIError(f"/asyncapi: version {spec!r} is not read; convert the document to "
                            "AsyncAPI 2.6 or 3.0")
    major = int(spec.split(".")[0])
    reader = _Reader(doc)
    info: dict[str, Any] = doc["info"] if isinstance(doc.get("info"), dict) else {}
    ours = isinstance(doc.get("x-tidings-catalog"), str)
    title = str(info.get("title") or "catalog")
    name = doc["x-tidings-catalog"] if ours else _module_name(title, "catalog")
    app = _module_name(title, "app")
    contexts: dict[str, dict[str, Any]] = {}
    for i, tag in enumerate(info.get("tags") or []):
        if ours and isinstance(tag, dict) and isinstance(tag.get("name"), str):
            ctx: dict[str, Any] = {}
            if tag.get("description"):
                ctx["description"] = tag["description"]
            if "x-tidings-owner" in tag:
                ctx["owner"] = tag["x-tidings-owner"]
            if "x-tidings-transport" in tag:
                ctx["transport"] = tag["x-tidings-transport"]
            contexts[tag["name"]] = ctx
        elif not ours:
            reader.warn(f"/info/tags/{i}", "document tags are not kept")
    messages: dict[str, _Msg] = {}

    def message(raw: Any, where: str, key: str) -> _Msg:
        body, at = reader.deref(raw, where)
        if not isinstance(body, dict):
            raise AsyncAPIError(f"{at}: a message must be an object")
        if "traits" in body:
            reader.warn(f"{at}/traits", "message traits are not applied; merge them into the "
                        "message first")
        wanted = str(body.get("name") or body.get("messageId") or key)
        msg_name = _message_name(wanted)
        if msg_name != wanted:
            reader.warn(at, f"message name {wanted!r} is no catalog name; imported as {msg_name!r}")
        if msg_name in messages:
            return messages[msg_name]
        kind = str(body.get("x-tidings-kind") or body.get("x-eventcatalog-message-type") or "event")
        if kind not in ("event", "command"):
            reader.warn(f"{at}/x-eventcatalog-message-type",
                        f"message type {kind!r} is neither event nor command; imported as an event")
            kind = "event"
        out: dict[str, Any] = {}
        text = body.get("summary") or body.get("description")
        if text:
            out["description"] = str(text)
        version = body.get("x-tidings-version", body.get("x-eventcatalog-message-version"))
        if version is not None:
            try:
                if int(str(version)) != 1:
                    out["version"] = int(str(version))
            except ValueError:
                reader.warn(f"{at}/x-eventcatalog-message-version",
                            f"version {version!r} is no whole number; left at 1")
        if body.get("x-tidings-deprecated"):
            out["deprecated"] = True
        if "x-tidings-compatibility" in body:
            out["compatibility"] = body["x-tidings-compatibility"]
        if "x-tidings-retry" in body:
            out["retry"] = body["x-tidings-retry"]
        if body.get("x-tidings-distributed"):
            out["distributed"] = True
        out["payload"] = reader.payload(body, at, major)
        reader.not_expressed(body, at)
        cid = body.get("correlationId")
        if cid is not None and not ours:
            reader.warn(f"{at}/correlationId", "tidings carries its own correlation id "
                        "(header Tidings-Correlation-Id); this one is not kept")
        headers = body.get("headers")
        own = {"$ref": f"#/components/schemas/{_TIDINGS_HEADERS}"}
        if headers is not None and not (ours and headers == own):
            reader.warn(f"{at}/headers", "message headers are not part of a tidings payload; "
                        "left out")
        messages[msg_name] = _Msg(msg_name, kind, out, pointer=at)
        return messages[msg_name]

    def role(msg: _Msg, context: str, sends: bool) -> None:
        contexts.setdefault(context, {})
        _add(msg.producers if sends else msg.receivers, context)

    channels = doc.get("channels") or {}
    if not isinstance(channels, dict):
        raise AsyncAPIError("/channels: must be an object")
    for ch_key, channel in channels.items():
        where = _ptr("channels", ch_key)
        channel, where = reader.deref(channel, where)
        if not isinstance(channel, dict):
            raise AsyncAPIError(f"{where}: a channel must be an object")
        reader.not_expressed(channel, where)
        if major >= 3:
            for m_key, raw in (channel.get("messages") or {}).items():
                msg = message(raw, f"{where}/messages/{_escape(m_key)}", m_key)
                _check_address(reader, doc, channel, where, msg.name, ours, name)
        else:
            for action in ("publish", "subscribe"):
                op = channel.get(action)
                if not isinstance(op, dict):
                    continue
                op_where = f"{where}/{action}"
                reader.not_expressed(op, op_where)
                context = str(op.get("x-tidings-context") or app)
                raw = op.get("message")
                raw, raw_where = reader.deref(raw, f"{op_where}/message")
                one_of = raw.get("oneOf") if isinstance(raw, dict) else None
                items: list[Any] = one_of if isinstance(one_of, list) else [raw]
                for i, item in enumerate(items):
                    item_where = f"{raw_where}/oneOf/{i}" if one_of is not None else raw_where
                    key = str(op.get("operationId") or ch_key) if len(items) == 1 else f"{ch_key}{i}"
                    msg = message(item, item_where, _message_name(key))
                    # 2.x: `subscribe` means the application sends, `publish` that it receives
                    role(msg, context, sends=action == "subscribe")
                    if ch_key != msg.name:
                        reader.warn(where, f"channel {ch_key!r} carries message {msg.name!r}: "
                                    f"tidings sends it on tidings.{name}.{msg.name}")
    if major >= 3:
        for op_key, op in (doc.get("operations") or {}).items():
            where = _ptr("operations", op_key)
            op, where = reader.deref(op, where)
            if not isinstance(op, dict) or op.get("action") not in ("send", "receive"):
                raise AsyncAPIError(f"{where}/action: an operation's action is send or receive")
            reader.not_expressed(op, where)
            context = str(op.get("x-tidings-context") or app)
            channel, _ = reader.deref(op.get("channel"), f"{where}/channel")
            raws = op.get("messages")
            if raws is None:
                raws = list((channel.get("messages") or {}).values()) if isinstance(channel, dict) else []
            for i, raw in enumerate(raws):
                key = raw.get("$ref", "").rsplit("/", 1)[-1] if isinstance(raw, dict) else str(i)
                msg = message(raw, f"{where}/messages/{i}", _unescape(key) or str(i))
                role(msg, context, sends=op["action"] == "send")
    transport = _app_transport(reader, doc) if not ours else None
    if transport and app in contexts:
        contexts[app]["transport"] = transport
    catalog: dict[str, Any] = {"catalog": name}
    if info.get("description"):
        catalog["description"] = str(info["description"])
    catalog["contexts"] = {k: contexts[k] for k in sorted(contexts)}
    defaults = doc.get("x-tidings-defaults")
    if isinstance(defaults, dict):
        catalog["defaults"] = defaults
    else:
        defaults = {}
    events: dict[str, Any] = {}
    commands: dict[str, Any] = {}
    for msg in sorted(messages.values(), key=lambda m: m.name):
        body = dict(msg.body)
        if body.get("compatibility") == defaults.get("compatibility", str(Compatibility.BACKWARD)):
            body.pop("compatibility")
        if "retry" in body and body["retry"] == defaults.get("retry"):
            body.pop("retry")
        if not ours and not body.get("distributed") and not transport:
            body["distributed"] = True
        entry: dict[str, Any] = {k: body[k] for k in ("description", "version", "deprecated")
                                 if k in body}
        if msg.producers:
            entry["producers"] = msg.producers
        if msg.kind == "command":
            if msg.receivers:
                entry["handler"] = msg.receivers[0]
            if len(msg.receivers) != 1:
                reader.warn(msg.pointer, f"command {msg.name!r} is received by "
                            f"{len(msg.receivers) or 'no'} contexts; a command has exactly one "
                            f"handler: {'kept ' + msg.receivers[0] if msg.receivers else 'write `handler:`'}")
                entry.setdefault("handler", app)
                contexts.setdefault(app, {})
                catalog["contexts"] = {k: contexts[k] for k in sorted(contexts)}
        elif msg.receivers:
            entry["consumers"] = msg.receivers
        for key in ("compatibility", "retry", "distributed"):
            if key in body:
                entry[key] = body[key]
        entry["payload"] = body["payload"]
        (commands if msg.kind == "command" else events)[msg.name] = entry
    if events:
        catalog["events"] = events
    if commands:
        catalog["commands"] = commands
    defs = {k: v for k, v in sorted(reader.defs.items()) if k != _TIDINGS_HEADERS}
    taken = {model_name(m) for m in messages}
    for old in [k for k in defs if model_name(k) in taken]:
        new = old + "Schema"
        while new in defs or model_name(new) in taken:
            new += "_"
        reader.warn(_ptr("components", "schemas", old), f"schema {old!r} has the Python name of a "
                    f"message; imported as {new!r}")
        defs[new] = defs.pop(old)
        catalog = _rename_ref(catalog, old, new)
        defs = _rename_ref(defs, old, new)
    if defs:
        catalog["$defs"] = dict(sorted(defs.items()))
    return ImportResult(copy.deepcopy(catalog), reader.warnings)


def _rename_ref(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        out = {k: _rename_ref(v, old, new) for k, v in value.items()}
        if out.get("$ref") == f"#/$defs/{old}":
            out["$ref"] = f"#/$defs/{new}"
        return out
    if isinstance(value, list):
        return [_rename_ref(v, old, new) for v in value]
    return value


def _check_address(reader: _Reader, doc: dict[str, Any], channel: dict[str, Any], where: str,
                   name: str, ours: bool, catalog: str) -> None:
    if ours:
        return
    address = channel.get("address")
    if address is not None and address != f"tidings.{catalog}.{name}":
        reader.warn(f"{where}/address", f"address {address!r} cannot be kept: tidings sends "
                    f"{name!r} on tidings.{catalog}.{name}")


def _app_transport(reader: _Reader, doc: dict[str, Any]) -> str | None:
    servers = doc.get("servers") or {}
    found: set[str] = set()
    for key, server in servers.items() if isinstance(servers, dict) else []:
        server, where = reader.deref(server, _ptr("servers", key))
        protocol = str(server.get("protocol", "")) if isinstance(server, dict) else ""
        if protocol in _PROTOCOLS:
            found.add(_PROTOCOLS[protocol])
        else:
            reader.warn(f"{where}/protocol", f"protocol {protocol!r} is not a tidings transport "
                        "(nats, sns-sqs); the messages are imported as distributed")
        reader.not_expressed(server, where)
    return found.pop() if len(found) == 1 else None
