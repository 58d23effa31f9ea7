"""`ConsoleConfig`: what `tidings console` was started with."""

from __future__ import annotations

from dataclasses import dataclass

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
"""Hosts the console may bind without a token."""


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The console's settings: the logs (`dbs` URLs, or the app's store), the app whose handlers
    replays run in (`app`, `module:attribute`), where it listens, its access token and whether it
    refuses every write."""

    dbs: tuple[str, ...] = ()
    app: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    read_only: bool = False
    replay_timeout: float = 300.0
    """Seconds a replay's outcome is followed before it is reported as still running."""
    page_size: int = 50
