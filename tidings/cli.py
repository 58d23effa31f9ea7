"""The `tidings` command line (click). Every subcommand lives beside the code it drives."""

from __future__ import annotations

import sys
from typing import Any

import click

from tidings import __version__
from tidings._errors import UserError


class _Group(click.Group):
    """A click group that turns `UserError` into one readable line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="tidings")
def main() -> None:
    """tidings: typed asynchronous events from YAML catalogs.

    Exit codes: 0 clean, 1 findings, 2 usage or input error.
    """


from tidings.catalog._cli import schema_command  # noqa: E402

main.add_command(schema_command)

from tidings.generator._cli import generate_command  # noqa: E402

main.add_command(generate_command)

from tidings.checker._cli import check as check_command  # noqa: E402

main.add_command(check_command)

from tidings._log_cli import db_group, emit_command, log_command, replay_command  # noqa: E402

main.add_command(emit_command)
main.add_command(log_command)
main.add_command(replay_command)
main.add_command(db_group)
