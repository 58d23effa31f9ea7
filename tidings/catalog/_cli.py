"""`tidings schema`: print the JSON Schema of the catalog file format (for editors)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from tidings._errors import UserError
from tidings.catalog._format import catalog_format_schema


def _write_atomically(path: Path, text: str) -> None:
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp's 0600 is for secrets; a schema is not one
        os.replace(temp, path)
    except OSError as exc:
        raise UserError(f"{path}: cannot write the schema ({exc.strerror}); "
                        "choose a writable --output path") from None


@click.command("schema")
@click.option("--indent", type=click.IntRange(min=0), default=2, show_default=True,
              help="Spaces per JSON indentation level (0: one line).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
def schema_command(indent: int, output: Path | None) -> None:
    """Print the JSON Schema of the catalog file format.

    Point yaml-language-server at it to get completion, hover and validation of
    schemas/*.yaml in your editor, e.g. `tidings schema -o schemas/catalog.schema.json`
    and the modeline `# yaml-language-server: $schema=catalog.schema.json`.
    """
    text = json.dumps(catalog_format_schema(), indent=indent or None, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        _write_atomically(output, text)
