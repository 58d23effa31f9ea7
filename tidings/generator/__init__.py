"""Code generation: a catalog -> a typed Python package (models, catalog, bus, publishers, subscribers).

`generate(schemas, out)` writes `out/<catalog>/` (a no-op when nothing changed, atomic otherwise);
`check(schemas, out)` lists what `generate` would change. Both raise `tidings.catalog.CatalogError`
(a `UserError`) for a broken catalog. Importing this package stays cheap: jinja2, the catalog
loader and datamodel-code-generator load only when something must be rendered.
"""

from typing import TYPE_CHECKING, Any

from tidings.generator._api import check, generate, render
from tidings.generator._output import MANIFEST, GenerateResult, StaleFile
from tidings.generator._templates import TEMPLATES, bus_class_name

if TYPE_CHECKING:
    from tidings.generator._render import render_package, template_context

__all__ = [
    "MANIFEST",
    "TEMPLATES",
    "GenerateResult",
    "StaleFile",
    "bus_class_name",
    "check",
    "generate",
    "render",
    "render_package",
    "template_context",
]


def __getattr__(name: str) -> Any:
    if name in {"render_package", "template_context"}:
        from tidings.generator import _render

        return getattr(_render, name)
    raise AttributeError(f"module 'tidings.generator' has no attribute {name!r}")
