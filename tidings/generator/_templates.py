"""Where the templates live, and the names derived from a catalog that need no rendering."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"
"""The built-in templates; `--templates DIR` puts a directory in front of them."""


def template_files(templates: Path | None) -> Mapping[str, bytes]:
    """The template files in effect (built-in, overridden by `templates`), for the input hash."""
    found: dict[str, bytes] = {}
    for root in (TEMPLATES, templates):
        if root is None:
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return dict(sorted(found.items()))


def bus_class_name(catalog_name: str) -> str:
    """`freight` -> `FreightBus`, `freight_ops` -> `FreightOpsBus`."""
    return "".join(part[:1].upper() + part[1:] for part in catalog_name.split("_") if part) + "Bus"
