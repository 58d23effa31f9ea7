"""The catalog as a static site: `build_site(catalog, out)` writes the flow graph, a page per
context and per message and a search index, in HTML (offline, no CDN) or Markdown (Mermaid);
`load_history` and `load_changes` add what git knows about each message."""

from tidings.site._build import FORMATS, SiteFormat, SiteReport, build_site
from tidings.site._fields import FieldRow, examples, field_rows
from tidings.site._graph import LAYOUTS, columns_svg, overview_svg, render_svg, to_dot, to_mermaid
from tidings.site._history import Changes, Commit, History, Step, load_changes, load_history

__all__ = [
    "FORMATS",
    "LAYOUTS",
    "Changes",
    "Commit",
    "FieldRow",
    "History",
    "SiteFormat",
    "SiteReport",
    "Step",
    "build_site",
    "columns_svg",
    "examples",
    "field_rows",
    "load_changes",
    "load_history",
    "overview_svg",
    "render_svg",
    "to_dot",
    "to_mermaid",
]
