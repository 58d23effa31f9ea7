"""`tidings init`: a new project's first catalog, settings and application.

`scaffold(directory)` writes `schemas/<name>.yaml` (a small commented catalog with the
yaml-language-server modeline), `schemas/catalog.schema.json` (what the modeline points at),
`app.py` (a runnable application on the embedded SQLite event log) and the `[tool.tidings]`
settings in `pyproject.toml`. It never overwrites anything.
"""

from tidings.scaffold._scaffold import Scaffold, catalog_name_for, plan_scaffold, scaffold

__all__ = ["Scaffold", "catalog_name_for", "plan_scaffold", "scaffold"]
