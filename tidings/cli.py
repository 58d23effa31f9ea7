"""The `tidings` command line (click). Every subcommand lives beside the code it drives and is
imported only when it runs, so `tidings generate` does not pay for the checker or the event log."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from tidings import __version__
from tidings._errors import UserError

_COMMANDS = {
    "check": "tidings.checker._cli:check",
    "db": "tidings._log_cli:db_group",
    "docs": "tidings.site._cli:docs_command",
    "emit": "tidings._log_cli:emit_command",
    "export": "tidings.asyncapi._cli:export_group",
    "generate": "tidings.generator._cli:generate_command",
    "import": "tidings.asyncapi._cli:import_group",
    "init": "tidings.scaffold._cli:init_command",
    "log": "tidings._log_cli:log_command",
    "replay": "tidings._log_cli:replay_command",
    "schema": "tidings.catalog._cli:schema_command",
}


class _Group(click.Group):
    """A click group with lazily imported subcommands that turns `UserError` into one readable
    line and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = _COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except click.UsageError as exc:  # one line, as every other input error
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            click.echo(f"error: {where}: {exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="tidings")
def main() -> None:
    """tidings: typed asynchronous events from YAML catalogs.

    Exit codes: 0 clean, 1 findings, 2 usage or input error.
    """
