"""`tidings init [DIR]`: scaffold a new project (click command)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), default=".")
@click.option("--name", default=None,
              help="The catalog's name, the Python package of the generated code "
                   "(default: DIRECTORY's name, lowercase, other characters as _).")
def init_command(directory: Path, name: str | None) -> None:
    """Start a project in DIRECTORY (default: here): a first catalog, settings, an app.

    Writes schemas/NAME.yaml (a small commented catalog), schemas/catalog.schema.json (for the
    editor), app.py (a runnable application on an SQLite event log) and [tool.tidings] in
    pyproject.toml (created, or the table added at its end). Never overwrites: if a file exists,
    or pyproject.toml already has [tool.tidings], nothing is written (exit 2).
    """
    from tidings.scaffold import scaffold

    plan = scaffold(directory, name)
    for relative in plan.files:
        click.echo(f"wrote {(directory / relative).as_posix()}")
    click.echo(f"wrote [tool.tidings] in {(directory / 'pyproject.toml').as_posix()}")
    where = "" if directory.resolve() == Path.cwd() else f"cd {directory.as_posix()} && "
    click.echo(f"next: {where}tidings generate && tidings check && python app.py")
