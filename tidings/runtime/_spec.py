"""What the runtime knows of a catalog: the metadata that generated `catalog.py` modules declare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

Kind = Literal["event", "command"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failed delivery is retried: exponential backoff with full jitter, then `dead`.

    Attempt n (1-based) that fails is retried after min(max_delay, initial_delay * 2**(n-1))
    seconds, multiplied by a uniform random factor in [0, 1) when `jitter` is true. After
    `max_attempts` attempts the delivery is dead. Only exceptions that are instances of
    `retry_on` are retried; any other exception makes the delivery dead at once.
    """

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 300.0
    jitter: bool = True
    retry_on: tuple[type[BaseException], ...] = (Exception,)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("initial_delay and max_delay must not be negative")


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """One event or command of a catalog, as the runtime needs it.

    `model` is the pydantic payload model; `fingerprint` is a hash of the canonical payload
    schema, so a stored message can be matched with the schema it was written under.
    `distributed` is true when the message crosses process boundaries (declared
    `distributed: true`, or produced or consumed by a context with a `transport`): on a bus with
    a transport it is relayed to the broker, and its subscribers may consume it from there.
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
