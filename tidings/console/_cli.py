"""`tidings console`: serve the console (uvicorn) over the logs given."""

from __future__ import annotations

import click

from tidings._errors import UserError
from tidings.console._config import LOOPBACK, ConsoleConfig


@click.command("console")
@click.option("--db", "dbs", multiple=True, metavar="URL",
              help="An event log (sqlite:///file.db, a file path or postgresql://...?schema=NAME);"
                   " repeat it to see several services' logs (threads span them).")
@click.option("--app", "app", metavar="MODULE:BUS",
              help="The application's EventBus: replays of its log run its handlers in this process.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but loopback needs --token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", envvar="TIDINGS_CONSOLE_TOKEN", metavar="TOKEN",
              help="Access token every request must carry (also TIDINGS_CONSOLE_TOKEN).")
@click.option("--read-only", is_flag=True, help="Show the logs; hide and refuse every replay.")
def console_command(dbs: tuple[str, ...], app: str | None, host: str, port: int, token: str | None,
                    read_only: bool) -> None:
    """The event log in a browser: messages, threads, dead letters, and replay with a button.

    Open the address it prints; with --token, add ?token=TOKEN once (a cookie keeps it) or send
    `Authorization: Bearer TOKEN` to the JSON API under /api/ (OpenAPI at /api/openapi.json).
    """
    try:
        import uvicorn

        from tidings.console._app import create_app
        from tidings.console._logs import close_logs, open_logs
    except ImportError as exc:
        raise UserError(f"the console needs its extra ({exc.name} is missing):"
                        " pip install 'tidings[console]'") from None
    from tidings.runtime.stores import StoreError

    if token is not None and not token.strip():
        raise UserError("--token: empty; give a long random value (or leave it out on 127.0.0.1)")
    if host not in LOOPBACK and token is None:
        raise UserError(f"--host {host}: serving beyond this machine needs --token TOKEN"
                        " (or TIDINGS_CONSOLE_TOKEN)")
    if not dbs and not app:
        raise UserError("no event log given: pass --db URL (repeatable) or --app module:bus")
    bus = None
    if app:
        from tidings._log_cli import load_app

        bus = load_app(app)
    config = ConsoleConfig(dbs=dbs, app=app, host=host, port=port, token=token, read_only=read_only)
    try:
        logs = open_logs(dbs, bus)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    try:
        server = uvicorn.Server(uvicorn.Config(
            create_app(config, logs), host=host, port=port, log_level="warning", lifespan="on",
        ))
        shown = f"[{host}]" if ":" in host else host
        mode = " (read-only)" if read_only else ""
        click.echo(f"tidings console on http://{shown}:{port}/{mode}; Ctrl-C stops it", err=True)
        server.run()
    finally:
        close_logs(logs)
    if not server.started:
        raise UserError(f"--port {port}: cannot listen on {host}:{port} (in use?); pick another port")
