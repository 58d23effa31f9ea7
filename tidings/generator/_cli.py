"""`tidings generate`: catalog directory -> generated package (click command)."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from tidings._errors import UserError
from tidings.generator._codegen_schema import FORMAT_POLICIES, FormatPolicy


def _find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _tool_table() -> tuple[Path | None, dict[str, Any]]:
    path = _find_pyproject(Path.cwd())
    if path is None:
        return None, {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read it as TOML ({exc}); fix the file") from None
    tool = data.get("tool", {}).get("tidings", {})
    if not isinstance(tool, dict):
        raise UserError(f"{path}: [tool.tidings] must be a table")
    return path, tool


def _schema_settings() -> tuple[FormatPolicy, bool]:
    """`formats` (``annotate`` | ``assert``) and `strict_keywords` (bool) from `[tool.tidings]`,
    then `TIDINGS_FORMATS` / `TIDINGS_STRICT_KEYWORDS`, else ``annotate`` and false."""
    path, tool = _tool_table()
    formats: Any = tool.get("formats", os.environ.get("TIDINGS_FORMATS") or "annotate")
    strict: Any = tool.get("strict_keywords")
    where = f"{path}: " if path is not None else ""
    if strict is None:
        raw = os.environ.get("TIDINGS_STRICT_KEYWORDS", "false").lower()
        if raw not in ("true", "false", "1", "0", ""):
            raise UserError(f"TIDINGS_STRICT_KEYWORDS={raw!r}: write true or false")
        strict = raw in ("true", "1")
    if not isinstance(strict, bool):
        raise UserError(f"{where}strict_keywords in [tool.tidings] must be true or false")
    if formats not in FORMAT_POLICIES:
        raise UserError(f"{where}formats {formats!r} is not one of {', '.join(FORMAT_POLICIES)}; "
                        "write formats = \"annotate\" (the default) or \"assert\"")
    return formats, strict


def _pyproject_settings() -> dict[str, Path]:
    """`schemas` from `[tool.tidings]` (shared with `tidings check`), then `schemas`, `out` and
    `templates` from `[tool.tidings.generate]`, as paths relative to the nearest pyproject.toml."""
    path, tool = _tool_table()
    if path is None:
        return {}
    generate = tool.get("generate", {}) if isinstance(tool, dict) else None
    if not isinstance(tool, dict) or not isinstance(generate, dict):
        raise UserError(f"{path}: [tool.tidings] and [tool.tidings.generate] must be tables")
    unknown = sorted(set(generate) - {"schemas", "out", "templates"})
    if unknown:
        raise UserError(
            f"{path}: unknown key(s) in [tool.tidings.generate]: {', '.join(unknown)}; "
            "use schemas, out, templates"
        )
    values = {"schemas": tool["schemas"]} if "schemas" in tool else {}
    values.update(generate)
    settings: dict[str, Path] = {}
    for key, value in values.items():
        if not isinstance(value, str):
            raise UserError(f"{path}: {key} in [tool.tidings] must be a path string")
        settings[key] = path.parent / value
    return settings


def _setting(flag: Path | None, key: str, default: str | None) -> Path | None:
    """Flag, then pyproject.toml, then `TIDINGS_<KEY>`, then the default."""
    if flag is not None:
        return flag
    from_file = _pyproject_settings().get(key)
    if from_file is not None:
        return from_file
    env = os.environ.get(f"TIDINGS_{key.upper()}")
    if env:
        return Path(env)
    return None if default is None else Path(default)


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

    schemas_dir = _setting(schemas, "schemas", "schemas")
    out_dir = _setting(out, "out", "generated")
    templates_dir = _setting(templates, "templates", None)
    assert schemas_dir is not None and out_dir is not None
    formats, strict_keywords = _schema_settings()
    if check_only:
        stale = check(schemas_dir, out_dir, templates=templates_dir, force=force, formats=formats,
                      strict_keywords=strict_keywords)
        if stale:
            click.echo(f"{len(stale)} generated file(s) are stale; run `tidings generate`:")
            for item in stale:
                click.echo(f"  {item}")
            sys.exit(1)
        click.echo(f"{out_dir.as_posix()} is up to date")
        return
    result = generate(schemas_dir, out_dir, templates=templates_dir, force=force, formats=formats,
                      strict_keywords=strict_keywords)
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    where = result.package.as_posix()
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
