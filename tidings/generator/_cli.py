"""`tidings generate`: catalog directory -> generated package (click command)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tidings._settings import load_project


@click.command("generate")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 listing stale files.")
@click.option(
    "--schemas",
    type=click.Path(path_type=Path, file_okay=True, dir_okay=True),
    help="Catalog directory (default: schemas/).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Output directory; the package goes to OUT/CATALOG/ (default: generated/).",
)
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory of jinja2 templates overriding the built-in ones, file by file.",
)
@click.option("--force", is_flag=True, help="Ignore the stored input hash; render everything.")
def generate_command(
    check_only: bool,
    schemas: Path | None,
    out: Path | None,
    templates: Path | None,
    force: bool,
) -> None:
    """Generate typed code from the catalog: SCHEMAS -> OUT/CATALOG/ (the catalog's name).

    Writes models.py (pydantic), catalog.py, bus.py and publishers/ and subscribers/ per
    context. Nothing is written when nothing changed; otherwise the package is replaced
    atomically. With --check, exit 1 and list the files that are stale.
    """
    from tidings.generator import check, generate

    project = load_project()
    schemas_dir: Path = project.get("schemas", schemas, section="generate", default="schemas").value
    out_dir: Path = project.get("out", out, section="generate", default="generated").value
    templates_dir: Path | None = project.get("templates", templates, section="generate").value
    if check_only:
        stale = check(schemas_dir, out_dir, templates=templates_dir, force=force)
        if stale:
            click.echo(f"{len(stale)} generated file(s) are stale; run `tidings generate`:")
            for item in stale:
                click.echo(f"  {item}")
            sys.exit(1)
        click.echo(f"{project.shown(out_dir)} is up to date")
        return
    result = generate(schemas_dir, out_dir, templates=templates_dir, force=force)
    where = project.shown(result.package)
    if result.fast_path:
        click.echo(f"{where} is up to date (inputs unchanged)")
    elif not result.changed:
        click.echo(f"{where} is up to date")
    else:
        click.echo(
            f"{where}: {len(result.written)} file(s) written, {len(result.removed)} removed"
        )
        for name in result.written:
            click.echo(f"  wrote {name}")
        for name in result.removed:
            click.echo(f"  removed {name}")
