"""What the runtime knows of a catalog: the metadata that generated `catalog.py` modules declare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from tidings.runtime._retry import RetryPolicy

Kind = Literal["event", "command"]


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One event or command of a catalog, as the runtime needs it.

    `model` is the pydantic payload model; `fingerprint` is a hash of the canonical payload
    schema, so a stored message can be matched with the schema it was written under.
    `distributed` is true when the message crosses process boundaries (declared
    `distributed: true`, or produced or consumed by a context with a `transport`): on a bus with
    a transport it is relayed to the broker, and its subscribers may consume it from there.
    `previous` holds the payload models of older versions the catalog keeps (version -> model):
    an upcaster from such a version receives an instance of it.
    """

    name: str
    kind: Kind
    model: type[BaseModel]
    version: int = 1
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()
    handler: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    compatibility: str = "BACKWARD"
    fingerprint: str = ""
    deprecated: bool = False
    description: str = ""
    distributed: bool = False
    previous: Mapping[int, type[BaseModel]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CatalogSpec:
    """A whole catalog: its name and its messages by wire name."""

    name: str
    messages: Mapping[str, MessageSpec]

    def get(self, name: str) -> MessageSpec:
        """The spec of `name`; a KeyError that lists the known names when it is not declared."""
        try:
            return self.messages[name]
        except KeyError:
            known = ", ".join(sorted(self.messages)) or "(none)"
            raise KeyError(
                f"{name!r} is not declared in catalog {self.name!r}; known names: {known}"
            ) from None
