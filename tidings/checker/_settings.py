"""Settings of `tidings check`: command-line flags first, then `[tool.tidings]` in
pyproject.toml, then `TIDINGS_*` environment variables, then defaults (the project's one
resolver, `tidings._settings`; paths in pyproject.toml are relative to it).

```toml
[tool.tidings]
schemas = "schemas"                 # the catalog directory (shared with `tidings generate`)
strict_keywords = false             # unknown schema keywords: warnings, or errors when true

[tool.tidings.check]
against = "origin/main"             # git ref or directory
code = ["app"]                      # source directories to scan
format = "text"                     # text | json | github | junit | markdown
fail-on = "error"                   # error | warning | info
policy = "lenient"                  # lenient | strict
ignore-file = ".tidings-ignore.yaml"
```

Environment: TIDINGS_SCHEMAS, TIDINGS_AGAINST, TIDINGS_CODE (os.pathsep-separated),
TIDINGS_FORMAT, TIDINGS_FAIL_ON, TIDINGS_POLICY, TIDINGS_IGNORE_FILE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from tidings._errors import UserError
from tidings._settings import load_project
from tidings.checker._findings import Severity
from tidings.checker._report import FORMATS
from tidings.checker._schema_diff import POLICIES, Policy

_CHOICES: dict[str, tuple[str, ...]] = {
    "format": FORMATS,
    "fail_on": tuple(s.value for s in Severity),
    "policy": POLICIES,
}
_FLAGS = {"schemas": "--catalog"}
_DEFAULTS = {"schemas": "schemas", "ignore_file": ".tidings-ignore.yaml"}


@dataclass
class CheckSettings:
    """Resolved settings of one check run (paths absolute or relative to the working directory)."""

    schemas: Path = Path("schemas")
    against: str | None = None
    code: list[Path] = field(default_factory=list)
    format: str = "text"
    fail_on: Severity = Severity.ERROR
    policy: Policy = "lenient"
    ignore_file: Path = Path(".tidings-ignore.yaml")
    strict_keywords: bool = False
    sources: dict[str, str] = field(default_factory=dict)



def resolve_settings(
    flags: Mapping[str, Any], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> CheckSettings:
    """Merge flags (None = not given), pyproject.toml and the environment into `CheckSettings`
    (defaults relative to the project root). Raises `UserError` naming the source of a bad value,
    and for an ignore file that was named but does not exist."""
    project = load_project(cwd, env)
    settings = CheckSettings()
    for key in ("schemas", "against", "code", "format", "fail_on", "policy", "ignore_file"):
        found = project.get(key, flags.get(key), section="check", flag_name=_FLAGS.get(key),
                            default=_DEFAULTS.get(key), choices=_CHOICES.get(key, ()))
        if found.value is None:
            continue
        value = found.value
        settings.sources[key] = found.source
        if key == "schemas":
            settings.schemas = value
        elif key == "against":
            in_project = project.root / str(value)
            from_file = found.source.endswith(str(project.pyproject))
            settings.against = str(in_project) if from_file and in_project.exists() else str(value)
        elif key == "code":
            settings.code = list(value)
        elif key == "format":
            settings.format = str(value)
        elif key == "fail_on":
            settings.fail_on = Severity(str(value))
        elif key == "policy":
            settings.policy = cast(Policy, str(value))
        elif key == "ignore_file":
            settings.ignore_file = value
            if found.source != "default" and not Path(value).is_file():
                raise UserError(
                    f"{found.source}: the ignore file {str(value)!r} does not exist; create it or"
                    " drop the setting"
                )
    strict = project.get("strict_keywords", section="check", default=False)
    settings.strict_keywords = bool(strict.value)
    settings.sources["strict_keywords"] = strict.source
    return settings
