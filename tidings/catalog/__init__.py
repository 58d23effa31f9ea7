"""YAML event catalogs: load, validate and bundle them into one typed, immutable model.

`load_catalog("schemas")` reads every *.yaml file of a directory; a broken catalog raises one
`CatalogError` listing every problem with its file, line, column and fix.
"""

from tidings.catalog._format import catalog_format_schema
from tidings.catalog._issues import CatalogError, CatalogIssue
from tidings.catalog._loader import fingerprint, load_catalog, load_catalog_texts
from tidings.catalog._model import (
    Catalog,
    Compatibility,
    ContextDef,
    Location,
    MessageDef,
    RetrySettings,
)
from tidings.catalog._naming import RESERVED_MODEL_NAMES, function_name, model_name

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogIssue",
    "Compatibility",
    "ContextDef",
    "Location",
    "MessageDef",
    "RESERVED_MODEL_NAMES",
    "RetrySettings",
    "catalog_format_schema",
    "fingerprint",
    "function_name",
    "load_catalog",
    "load_catalog_texts",
    "model_name",
]
