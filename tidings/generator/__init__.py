"""Code generation: a catalog -> a typed Python package (models, catalog, bus, publishers, subscribers).

`generate(schemas, out)` writes `out/<catalog>/` (a no-op when nothing changed, atomic otherwise);
`check(schemas, out)` lists what `generate` would change. Both raise `tidings.catalog.CatalogError`
(a `UserError`) for a broken catalog.
"""

from tidings.generator._api import check, generate, render
from tidings.generator._output import MANIFEST, GenerateResult, StaleFile
from tidings.generator._render import TEMPLATES, bus_class_name, render_package, template_context

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
