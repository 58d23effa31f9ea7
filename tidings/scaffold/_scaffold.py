"""What `tidings init` writes, planned in memory and checked before anything is written."""

from __future__ import annotations

import json
import re
import string
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from tidings._errors import UserError
from tidings.catalog import CatalogError, catalog_format_schema, load_catalog_texts
from tidings.generator import bus_class_name

_TEMPLATES = files("tidings.scaffold") / "templates"
SCHEMA_FILE = "catalog.schema.json"


@dataclass(frozen=True)
class Scaffold:
    """The files `tidings init` writes: `files` maps a path relative to the project directory to
    its whole text, `pyproject` is the text to write to (or append to) `pyproject.toml`."""

    directory: Path
    name: str
    files: dict[str, str]
    pyproject: str


def _template(template: str, **values: str) -> str:
    return string.Template(_TEMPLATES.joinpath(template).read_text(encoding="utf-8")).substitute(values)


def catalog_name_for(directory: Path) -> str:
    """The catalog name `tidings init` derives from a directory name: lowercase, other characters
    as `_` (`My-Shop` -> `my_shop`). It may still be invalid; `plan_scaffold` says so."""
    name = re.sub(r"[^a-z0-9_]+", "_", directory.resolve().name.lower()).strip("_")
    return name or "app"


def plan_scaffold(directory: Path, name: str | None = None) -> Scaffold:
    """Plan the files for `directory`; raise `UserError` naming the first file that already
    exists (nothing is ever overwritten), a pyproject.toml that already has `[tool.tidings]`, or
    a catalog name the loader refuses."""
    name = name if name is not None else catalog_name_for(directory)
    planned = {
        f"schemas/{name}.yaml": _template("catalog.yaml.tmpl", name=name),
        f"schemas/{SCHEMA_FILE}": json.dumps(catalog_format_schema(), indent=2, ensure_ascii=False) + "\n",
        "app.py": _template("app.py.tmpl", name=name, bus_class=bus_class_name(name)),
    }
    try:
        load_catalog_texts({f"{name}.yaml": planned[f"schemas/{name}.yaml"]}, root="schemas")
    except CatalogError as exc:
        first = exc.issues[0].message if exc.issues else str(exc)
        raise UserError(f"catalog name {name!r}: {first}; pass another with --name") from None
    for relative in planned:
        if (directory / relative).exists():
            raise UserError(f"{directory / relative}: already exists; tidings init never "
                            "overwrites a file: move it away or init another directory")
    schemas = directory / "schemas"
    if schemas.is_dir():
        for existing in sorted(schemas.rglob("*")):
            if existing.suffix in (".yaml", ".yml"):
                raise UserError(f"{existing}: schemas/ already holds a catalog file; tidings init "
                                "adds a new catalog only to an empty schemas/")
    return Scaffold(directory, name, planned, _pyproject_text(directory / "pyproject.toml"))


def _pyproject_text(path: Path) -> str:
    """The whole new text of `path`: the settings table added at the end, the rest unchanged."""
    table = _template("pyproject.toml.tmpl")
    if not path.exists():
        return table
    try:
        old = path.read_text(encoding="utf-8")
        data = tomllib.loads(old)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read it as TOML ({exc}); fix the file first") from None
    tool = data.get("tool")
    if isinstance(tool, dict) and "tidings" in tool:
        raise UserError(f"{path}: already has [tool.tidings]; tidings init never overwrites "
                        "settings: edit them there")
    new = old + ("" if old.endswith("\n") or not old else "\n") + ("\n" if old.strip() else "") + table
    try:
        tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: [tool.tidings] cannot be appended to it ({exc}); "
                        "add the table by hand") from None
    return new


def scaffold(directory: Path, name: str | None = None) -> Scaffold:
    """Write the planned files into `directory` (created if missing), after checking that none
    exists; return what was written."""
    plan = plan_scaffold(directory, name)
    try:
        for relative, text in plan.files.items():
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as handle:
                handle.write(text)
        (directory / "pyproject.toml").write_text(plan.pyproject, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{exc.filename}: cannot write it ({exc.strerror}); "
                        "choose a writable directory") from None
    return plan
