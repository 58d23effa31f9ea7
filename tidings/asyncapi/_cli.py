"""`tidings export asyncapi` and `tidings import asyncapi` (click commands)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from tidings._errors import UserError
from tidings._project import load_project_catalog
from tidings.asyncapi._export import ASYNCAPI_VERSIONS, export_asyncapi, export_asyncapi_per_context
from tidings.asyncapi._import import AsyncAPIError, import_asyncapi
from tidings.asyncapi._text import dump_document
from tidings.catalog import CatalogError, load_catalog


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: cannot write it ({exc.strerror}); choose a writable path") from None


@click.group("export")
def export_group() -> None:
    """Export the catalog for other tools."""


@export_group.command("asyncapi")
@click.option("--catalog", metavar="DIR", default=None,
              help="The catalog directory (default: `schemas` in [tool.tidings], else schemas/).")
@click.option("--version", "version", type=click.Choice(ASYNCAPI_VERSIONS), default="3.0.0",
              show_default=True, help="AsyncAPI version to write.")
@click.option("--info-version", default="1.0.0", show_default=True,
              help="The document's info.version (your API's version).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to FILE (.json writes JSON, else YAML); with --per-context, a directory.")
@click.option("--per-context", is_flag=True,
              help="One document per context (what it sends and receives), <context>.yaml each.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of YAML.")
def export_asyncapi_command(catalog: str | None, version: str, info_version: str,
                            output: Path | None, per_context: bool, as_json: bool) -> None:
    """Write the catalog as an AsyncAPI 3.0 document: channels on the wire subjects, messages
    with their payload schemas, send/receive operations per context, servers per transport."""
    _, loaded = load_project_catalog(catalog)
    if per_context:
        if output is None:
            raise UserError("--per-context writes one file per context: pass -o DIR")
        suffix = ".json" if as_json else ".yaml"
        for name, doc in export_asyncapi_per_context(loaded, version=version,
                                                     info_version=info_version).items():
            _write(output / f"{name}{suffix}", dump_document(doc, as_json))
        return
    doc = export_asyncapi(loaded, version=version, info_version=info_version)
    if output is None:
        click.echo(dump_document(doc, as_json), nl=False)
    else:
        _write(output, dump_document(doc, as_json or output.suffix == ".json"))


@click.group("import")
def import_group() -> None:
    """Start a catalog from another tool's description."""


@import_group.command("asyncapi")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"),
              show_default=True, help="Directory to write <catalog>.yaml into.")
@click.option("--force", is_flag=True, help="Overwrite an existing catalog file.")
def import_asyncapi_command(file: Path, out: Path, force: bool) -> None:
    """Read an AsyncAPI 2.x or 3.0 document (YAML or JSON) into a catalog file. What the catalog
    cannot say is printed as a warning naming the document's JSON pointer."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{file}: cannot read it ({exc.strerror}); pass an AsyncAPI file") from None
    try:
        loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        doc = yaml.load(text, Loader=loader)  # YAML is a superset of JSON; a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML or JSON"
        raise UserError(f"{file}{where}: {problem}; fix the document") from None
    try:
        result = import_asyncapi(doc)
    except AsyncAPIError as exc:
        raise UserError(f"{file}: {exc}") from None
    target = out / f"{result.name}.yaml"
    if target.exists() and not force:
        raise UserError(f"{target} exists; pass --force to overwrite it or --out another directory")
    for warning in result.warnings:
        click.echo(f"warning: {file}#{warning}", err=True)
    text = f"# Imported from {file.name} by `tidings import asyncapi`.\n" + dump_document(
        result.catalog, False)
    _write(target, text)
    try:
        load_catalog(out)
    except CatalogError as exc:
        raise UserError(f"{target} was written but does not load as a catalog; fix it there:\n{exc}"
                        ) from None
    click.echo(f"wrote {target} ({len(result.catalog.get('events', {}))} events, "
               f"{len(result.catalog.get('commands', {}))} commands, {len(result.warnings)} warnings)")
