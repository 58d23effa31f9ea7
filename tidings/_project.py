"""The project's catalog, found as every command finds it."""

from __future__ import annotations

from pathlib import Path

from tidings._errors import UserError
from tidings.catalog import Catalog, CatalogError, load_catalog
from tidings.checker import resolve_settings


def load_project_catalog(catalog: str | None) -> tuple[Path, Catalog]:
    """The catalog directory (flag, then `schemas` in [tool.tidings], then TIDINGS_SCHEMAS, then
    schemas/) and the catalog loaded from it; `UserError` when it does not load."""
    directory = resolve_settings({"schemas": catalog}).schemas
    if not directory.exists():
        raise UserError(f"{directory}: no such catalog directory; pass --catalog DIR")
    try:
        return directory, load_catalog(directory)
    except CatalogError as exc:
        raise UserError(str(exc)) from None
