"""`tidings schema`: print the JSON Schema of the catalog file format (for editors)."""

from __future__ import annotations

import json

import click

from tidings.catalog._format import catalog_format_schema


@click.command("schema")
@click.option("--indent", type=click.IntRange(min=0), default=2, show_default=True,
              help="Spaces per JSON indentation level (0: one line).")
def schema_command(indent: int) -> None:
    """Print the JSON Schema of the catalog file format.

    Save it and point yaml-language-server at it to get completion and validation of
    schemas/*.yaml in your editor: `tidings schema > .tidings/catalog.schema.json`.
    """
    text = json.dumps(catalog_format_schema(), indent=indent or None, sort_keys=False)
    click.echo(text)
