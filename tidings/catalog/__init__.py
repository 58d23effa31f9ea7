"""YAML event catalogs: load, validate and bundle them into one typed, immutable model.

`load_catalog("schemas")` reads every *.yaml file of a directory and the JSON or YAML schema
files its payloads `$ref` (drafts 7, 2019-09 and 2020-12); a broken catalog raises one
`CatalogError` listing every problem with its file, line, column and fix. Importing this
package is cheap (the generator's no-op check lists `catalog_files` with it): the model, the
loader and the JSON Schema libraries load on first use of a name that needs them.
"""

from typing import TYPE_CHECKING, Any

from tidings.catalog._files import (
    CATALOG_SUFFIXES,
    catalog_files,
    is_catalog_document,
    is_catalog_path,
)

if TYPE_CHECKING:
    from tidings.catalog._format import catalog_format_schema
    from tidings.catalog._issues import CatalogError, CatalogIssue
    from tidings.catalog._keywords import FORMATS
    from tidings.catalog._loader import fingerprint, load_catalog, load_catalog_texts
    from tidings.catalog._model import (
        Catalog,
        Compatibility,
        ContextDef,
        Location,
        MessageDef,
        PreviousVersion,
        RetrySettings,
    )
    from tidings.catalog._naming import RESERVED_MODEL_NAMES, function_name, model_name
    from tidings.catalog._undeclared import UndeclaredField, undeclared_fields

__all__ = [
    "CATALOG_SUFFIXES",
    "FORMATS",
    "Catalog",
    "CatalogError",
    "CatalogIssue",
    "Compatibility",
    "ContextDef",
    "Location",
    "MessageDef",
    "PreviousVersion",
    "RESERVED_MODEL_NAMES",
    "RetrySettings",
    "UndeclaredField",
    "catalog_files",
    "catalog_format_schema",
    "fingerprint",
    "function_name",
    "is_catalog_document",
    "is_catalog_path",
    "load_catalog",
    "load_catalog_texts",
    "model_name",
    "undeclared_fields",
]

_LAZY = {
    "catalog_format_schema": "_format",
    "CatalogError": "_issues",
    "CatalogIssue": "_issues",
    "FORMATS": "_keywords",
    "fingerprint": "_loader",
    "load_catalog": "_loader",
    "load_catalog_texts": "_loader",
    "Catalog": "_model",
    "Compatibility": "_model",
    "ContextDef": "_model",
    "Location": "_model",
    "MessageDef": "_model",
    "PreviousVersion": "_model",
    "RetrySettings": "_model",
    "RESERVED_MODEL_NAMES": "_naming",
    "function_name": "_naming",
    "model_name": "_naming",
    "UndeclaredField": "_undeclared",
    "undeclared_fields": "_undeclared",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tidings.catalog' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"tidings.catalog.{module}"), name)
    globals()[name] = value
    return value
