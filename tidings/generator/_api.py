"""The generator's entry points: `render`, `generate` and `check`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tidings._errors import UserError
from tidings.generator._codegen_schema import FORMAT_POLICIES, FormatPolicy
from tidings.generator._output import (
    MANIFEST,
    GenerateResult,
    StaleFile,
    fresh_by_manifest,
    input_hash,
    manifest_text,
    stale_files,
    write_package,
)
from tidings.generator._templates import template_files


def _check_dirs(schemas: Path, templates: Path | None) -> None:
    if not schemas.exists():
        raise UserError(f"{schemas}: no such catalog directory; pass --schemas DIR")
    if templates is not None and not templates.is_dir():
        raise UserError(f"{templates}: no such template directory; pass --templates DIR")


def _settings_text(formats: FormatPolicy, strict_keywords: bool) -> str:
    if formats not in FORMAT_POLICIES:
        raise UserError(f"formats {formats!r} is not one of {', '.join(FORMAT_POLICIES)}")
    return f"formats={formats};strict_keywords={strict_keywords}"


def render(
    schemas: Path, *, templates: Path | None = None, formats: FormatPolicy = "annotate",
    strict_keywords: bool = False, notes: list[str] | None = None,
) -> tuple[str, dict[str, str]]:
    """Load the catalog at `schemas` and render its package: (catalog name, {relative path:
    text}) including the manifest. Nothing is written. The catalog's warnings and the model
    generator's go to `notes`, one line each."""
    from tidings.catalog import load_catalog
    from tidings.generator._render import render_package

    _check_dirs(schemas, templates)
    inputs = input_hash(schemas, dict(template_files(templates)),
                        _settings_text(formats, strict_keywords))
    catalog = load_catalog(schemas, strict_keywords=strict_keywords)
    if notes is not None:
        notes.extend(str(warning) for warning in catalog.warnings)
    files = render_package(catalog, templates, formats=formats, notes=notes)
    files[MANIFEST] = manifest_text(inputs, files)
    return catalog.name, dict(sorted(files.items()))


def generate(
    schemas: Path, out: Path, *, templates: Path | None = None, force: bool = False,
    formats: FormatPolicy = "annotate", strict_keywords: bool = False,
) -> GenerateResult:
    """Write the package for the catalog at `schemas` into `out/<catalog>/`.

    When the input hash stored in an existing package matches and its files are untouched, this
    returns at once without loading the catalog (`fast_path`); `force` skips that shortcut.
    Otherwise every file is rendered in memory first, then only a real difference is written,
    atomically (see `write_package`). `formats` (``annotate`` or ``assert``) is the format policy
    of the models; `strict_keywords` makes unknown JSON Schema keywords and formats errors.
    """
    _check_dirs(schemas, templates)
    settings = _settings_text(formats, strict_keywords)
    if not force:
        inputs = input_hash(schemas, dict(template_files(templates)), settings)
        package = fresh_by_manifest(out, inputs)
        if package is not None:
            return GenerateResult(package, fast_path=True)
    notes: list[str] = []
    name, files = render(schemas, templates=templates, formats=formats,
                         strict_keywords=strict_keywords, notes=notes)
    return dataclasses.replace(write_package(out / name, files), warnings=tuple(notes))


def check(
    schemas: Path, out: Path, *, templates: Path | None = None, force: bool = False,
    formats: FormatPolicy = "annotate", strict_keywords: bool = False,
) -> list[StaleFile]:
    """The files of `out/<catalog>/` that `generate` would change (empty when fresh).

    Like `generate`, trusts a matching stored input hash (it covers every input, including
    the generator's own sources and versions) unless `force` is true; otherwise renders
    everything in memory and compares.
    """
    _check_dirs(schemas, templates)
    if not force:
        inputs = input_hash(schemas, dict(template_files(templates)),
                            _settings_text(formats, strict_keywords))
        if fresh_by_manifest(out, inputs) is not None:
            return []
    name, files = render(schemas, templates=templates, formats=formats,
                         strict_keywords=strict_keywords)
    return stale_files(out / name, files)
