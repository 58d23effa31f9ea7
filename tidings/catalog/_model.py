"""The typed, immutable model of a loaded catalog: what the generator and checker read."""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Location(BaseModel):
    """A place in a catalog file: 1-based line and column; `str()` gives `file:line:column`."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


class Compatibility(StrEnum):
    """Schema-evolution mode of a message, as in Confluent Schema Registry."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"
    FULL = "FULL"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"


class RetrySettings(BaseModel):
    """How failed deliveries are retried: durations are float seconds."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 300.0
    jitter: bool = True


class ContextDef(BaseModel):
    """A bounded context that produces, consumes or handles messages.

    `transport` (``nats`` or ``sns-sqs``) is set when the context runs as its own service: every
    message it produces, consumes or handles then crosses the wire (`MessageDef.distributed`).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    owner: str | None = None
    transport: str | None = None
    location: Location

    @property
    def remote(self) -> bool:
        """True when the context runs as its own service, reached through its `transport`."""
        return self.transport is not None


class PreviousVersion(BaseModel):
    """An older version of a message the catalog keeps (`previous: {v1: {payload: ...}}`):
    its payload as written, self-contained (`resolved_payload`) and fingerprinted."""

    model_config = ConfigDict(frozen=True)

    version: int
    description: str = ""
    payload: dict[str, Any]
    resolved_payload: dict[str, Any]
    fingerprint: str
    location: Location


class MessageDef(BaseModel):
    """One event or command of the catalog, with defaults merged and its payload bundled.

    `payload` is the JSON Schema as written; `resolved_payload` is self-contained (every `$ref`
    points at `#/$defs/<Name>` inside it); `fingerprint` is the sha256 of its canonical JSON.
    `distributed` is true when the message crosses process boundaries: declared
    `distributed: true`, or a producer, consumer or handler context has a `transport`. On a bus
    with a transport it travels on the broker subject `tidings.<catalog>.<name>`.
    `previous` are the older versions whose payloads the catalog keeps, oldest first.
    """

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    name: str
    kind: Literal["event", "command"]
    description: str = ""
    version: int = 1
    deprecated: bool = False
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    handler: str | None = None
    retry: RetrySettings = RetrySettings()
    compatibility: Compatibility = Compatibility.BACKWARD
    distributed: bool = False
    payload: dict[str, Any]
    resolved_payload: dict[str, Any]
    fingerprint: str
    location: Location
    file: str
    model_name: str
    function_name: str
    previous: tuple[PreviousVersion, ...] = ()

    def previous_version(self, version: int) -> PreviousVersion | None:
        """The kept older version `version`, or None."""
        return next((p for p in self.previous if p.version == version), None)


class Catalog(BaseModel):
    """A whole catalog: every file of a directory merged into one model, names sorted."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    contexts: dict[str, ContextDef]
    events: dict[str, MessageDef]
    commands: dict[str, MessageDef]
    defaults_retry: RetrySettings = RetrySettings()
    defaults_compatibility: Compatibility = Compatibility.BACKWARD
    shared_defs: dict[str, Any]
    files: tuple[str, ...]
    warnings: tuple[Any, ...] = ()
    """`CatalogIssue`s that do not stop loading: unknown JSON Schema keywords and formats."""

    def messages(self) -> list[MessageDef]:
        """Every event and command, sorted by name."""
        return sorted([*self.events.values(), *self.commands.values()], key=lambda m: m.name)

    def message(self, name: str) -> MessageDef:
        """The event or command called `name`; KeyError if the catalog has none."""
        if name in self.events:
            return self.events[name]
        if name in self.commands:
            return self.commands[name]
        raise KeyError(name)

    def subject(self, name: str) -> str:
        """The broker subject (NATS) or topic (SNS/SQS) of message `name`:
        `tidings.<catalog>.<name>`; KeyError if the catalog has no such message."""
        return f"tidings.{self.name}.{self.message(name).name}"

    def transports(self, message: MessageDef) -> dict[str, str]:
        """The contexts of `message` (producers, consumers, handler) that have a transport, with
        it, sorted by name: why a message is distributed when it does not say so itself."""
        names = {*message.producers, *message.consumers}
        if message.handler:
            names.add(message.handler)
        return {
            name: context.transport
            for name in sorted(names)
            if (context := self.contexts.get(name)) is not None and context.transport is not None
        }

    def bundle(self) -> dict[str, Any]:
        """One self-contained JSON Schema 2020-12 whose `$defs` hold every payload (under its model
        name) and every shared definition; all `$ref`s point at `#/$defs/...`. A fresh copy."""
        defs: dict[str, Any] = {}
        for message in self.messages():
            body = {k: v for k, v in message.resolved_payload.items() if k != "$defs"}
            defs[message.model_name] = copy.deepcopy(body)
        for name in sorted(self.shared_defs):
            defs[name] = copy.deepcopy(self.shared_defs[name])
        return {"$schema": JSON_SCHEMA_DIALECT, "$defs": defs}
