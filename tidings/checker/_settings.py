"""Settings of `tidings check`: command-line flags first, then `[tool.tidings]` in
pyproject.toml, then `TIDINGS_*` environment variables, then defaults.

```toml
[tool.tidings]
schemas = "schemas"                 # the catalog directory (shared with `tidings generate`)

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

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from tidings._errors import UserError
from tidings.checker._findings import Severity
from tidings.checker._report import FORMATS
from tidings.checker._schema_diff import POLICIES, Policy

_CHOICES: dict[str, tuple[str, ...]] = {
    "format": FORMATS,
    "fail_on": tuple(s.value for s in Severity),
    "policy": POLICIES,
}
_ENV = {
    "schemas": "TIDINGS_SCHEMAS",
    "against": "TIDINGS_AGAINST",
    "code": "TIDINGS_CODE",
    "format": "TIDINGS_FORMAT",
    "fail_on": "TIDINGS_FAIL_ON",
    "policy": "TIDINGS_POLICY",
    "ignore_file": "TIDINGS_IGNORE_FILE",
}


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
    sources: dict[str, str] = field(default_factory=dict)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    for d in (start, *start.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _pyproject_values(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read it as TOML ({exc}); fix the file") from exc
    tool = data.get("tool", {}).get("tidings", {})
    if not isinstance(tool, dict):
        raise UserError(f"{path}: [tool.tidings] must be a table")
    out: dict[str, Any] = {}
    if "schemas" in tool:
        out["schemas"] = tool["schemas"]
    check = tool.get("check", {})
    if not isinstance(check, dict):
        raise UserError(f"{path}: [tool.tidings.check] must be a table")
    allowed = {"against", "code", "format", "fail-on", "fail_on", "policy", "ignore-file",
               "ignore_file", "schemas"}
    unknown = sorted(set(check) - allowed)
    if unknown:
        raise UserError(
            f"{path}: unknown key(s) in [tool.tidings.check]: {', '.join(unknown)}; use "
            "against, code, format, fail-on, policy, ignore-file")
    for key, value in check.items():
        out[key.replace("-", "_")] = value
    base = path.parent
    for key in ("schemas", "ignore_file"):
        if key in out:
            out[key] = str(base / str(out[key]))
    if "code" in out:
        codes = out["code"] if isinstance(out["code"], list) else [out["code"]]
        out["code"] = [str(base / str(c)) for c in codes]
    return out


def resolve_settings(
    flags: Mapping[str, Any], *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> CheckSettings:
    """Merge flags (None = not given), pyproject.toml and the environment into `CheckSettings`.
    Raises `UserError` naming the source of a bad value."""
    cwd = cwd or Path.cwd()
    env = os.environ if env is None else env
    pyproject = find_pyproject(cwd)
    from_file = _pyproject_values(pyproject) if pyproject else {}
    settings = CheckSettings()
    for key in ("schemas", "against", "code", "format", "fail_on", "policy", "ignore_file"):
        value: Any = flags.get(key)
        source = f"--{key.replace('_', '-')}"
        if value in (None, (), []):
            if key in from_file:
                value, source = from_file[key], f"{key.replace('_', '-')} in {pyproject}"
            elif env.get(_ENV[key]):
                raw = env[_ENV[key]]
                value = raw.split(os.pathsep) if key == "code" else raw
                source = f"environment variable {_ENV[key]}"
            else:
                continue
        if key in _CHOICES and str(value) not in _CHOICES[key]:
            raise UserError(
                f"{source}: {value!r} is not one of {', '.join(_CHOICES[key])}")
        settings.sources[key] = source
        if key == "schemas":
            settings.schemas = Path(str(value))
        elif key == "against":
            settings.against = str(value)
        elif key == "code":
            items = value if isinstance(value, list | tuple) else [value]
            settings.code = [Path(str(v)) for v in items if str(v)]
        elif key == "format":
            settings.format = str(value)
        elif key == "fail_on":
            settings.fail_on = Severity(str(value))
        elif key == "policy":
            settings.policy = cast(Policy, str(value))
        elif key == "ignore_file":
            settings.ignore_file = Path(str(value))
    return settings
