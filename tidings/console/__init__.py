"""The console: the event log in a browser (messages, threads, dead letters, replay) and a JSON API.

Install with the `console` extra; start it with `tidings console --db URL`. `create_app(config,
logs)` builds the ASGI application for embedding or tests.
"""

from __future__ import annotations

from tidings.console._app import create_app
from tidings.console._config import ConsoleConfig
from tidings.console._logs import Log, open_logs

__all__ = ["ConsoleConfig", "Log", "create_app", "open_logs"]
