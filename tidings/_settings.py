"""The one settings resolver of every `tidings` command: a flag, then `[tool.tidings]` in the
nearest pyproject.toml, then a `TIDINGS_*` environment variable, then the default.

Paths in `[tool.tidings]` (and defaults) are relative to the pyproject.toml that holds them, so
a command behaves the same from any subfolder; paths from flags and environment variables are
relative to the working directory. Every key and section under `[tool.tidings]` must be known
(`KNOWN` below): a typo is an error with a did-you-mean, never a silently ignored setting.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tidings._errors import UserError

Kind = Literal["str", "path", "paths", "url", "bool", "int", "any"]
"""How a value is read: `path`/`paths` resolve against their origin's folder, `url` is a store
URL whose file path (if any) does too, `any` is left to the command that reads it."""


@dataclass(frozen=True, slots=True)
class Key:
    """One known setting: how its value is read, and its environment variable (None: none)."""

    kind: Kind = "str"
    env: str | None = None


def _env(name: str) -> str:
    return "TIDINGS_" + name.upper().replace("-", "_")


def _keys(**kinds: Kind) -> dict[str, Key]:
    return {name: Key(kind, _env(name)) for name, kind in kinds.items()}


KNOWN: dict[str, dict[str, Key]] = {
    "": _keys(schemas="path", app="str", db="url", strict_keywords="bool", formats="any"),
    "check": _keys(schemas="path", against="str", code="paths", format="str", fail_on="str",
                   policy="str", ignore_file="path"),
    "generate": _keys(schemas="path", out="path", templates="path"),
    "console": _keys(db="any", app="str", host="str", port="int", token="str", read_only="bool"),
}
"""Every section of `[tool.tidings]` ("" is the table itself) and its keys, spelled with `_`
(`fail-on` and `fail_on` are the same key). Add a key here and every command accepts it."""


def _canonical(key: str) -> str:
    return key.replace("-", "_")


def _spelled(key: str) -> str:
    return key.replace("_", "-") if key in {"fail_on", "ignore_file", "read_only"} else key


def _table(section: str) -> str:
    return "[tool.tidings]" if not section else f"[tool.tidings.{section}]"


def did_you_mean(word: str, known: Sequence[str]) -> str:
    """`"; did you mean 'x'?"` for the closest of `known`, or "" when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@dataclass(frozen=True, slots=True)
class Setting:
    """A resolved value and where it came from (`source` names the flag, the pyproject key or
    the environment variable, for error messages); `value` None means not set anywhere."""

    value: Any
    source: str


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Project:
    """The settings of the project the working directory belongs to.

    `root` is the folder of the nearest pyproject.toml (the working directory without one);
    `tables` is its validated `[tool.tidings]`, by section, keys spelled with `_`.
    """

    cwd: Path
    pyproject: Path | None = None
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    @property
    def root(self) -> Path:
        """Where `[tool.tidings]` paths and defaults are relative to."""
        return self.cwd if self.pyproject is None else self.pyproject.parent

    def shown(self, path: Path) -> str:
        """`path` as a message shows it: relative to the working directory when inside it."""
        try:
            return path.absolute().relative_to(self.cwd).as_posix()
        except ValueError:
            return path.as_posix()

    def get(self, key: str, flag: Any = None, *, section: str = "", flag_name: str | None = None,
            default: Any = None, choices: Sequence[str] = ()) -> Setting:
        """The value of `key` (in `section`, falling back to the top table) from `flag` (None, ""
        or empty = not given), `[tool.tidings]`, the environment, then `default`; paths come
        back absolute when they come from pyproject.toml or a default, as typed (relative to the
        working directory) from a flag or the environment. A value outside `choices` is a
        `UserError` naming its source."""
        key = _canonical(key)
        spec = KNOWN[section].get(key) or KNOWN[""][key]
        setting = self._find(key, spec, flag, section, flag_name, default)
        if choices and setting.value is not None and str(setting.value) not in choices:
            raise UserError(
                f"{setting.source}: {setting.value!r} is not one of {', '.join(choices)}"
                f"{did_you_mean(str(setting.value), choices)}"
            )
        return setting

    def _find(self, key: str, spec: Key, flag: Any, section: str, flag_name: str | None,
              default: Any) -> Setting:
        if flag not in (None, "", (), []):
            return Setting(_read(spec.kind, flag, None), flag_name or f"--{key.replace('_', '-')}")
        for where in dict.fromkeys((section, "")):
            table = self.tables.get(where, {})
            if key in table:
                return Setting(
                    _read(spec.kind, table[key], self.root),
                    f"{_spelled(key)} in {_table(where)} of {self.pyproject}",
                )
        if spec.env and self.env.get(spec.env):
            raw: Any = self.env[spec.env]
            if spec.kind == "paths":
                raw = [part for part in raw.split(os.pathsep) if part]
            return Setting(_read(spec.kind, raw, None), f"environment variable {spec.env}")
        if default is None:
            return Setting(None, "")
        return Setting(_read(spec.kind, default, self.root), "default")


def _read(kind: Kind, value: Any, base: Path | None) -> Any:
    """`value` read as `kind`; paths joined to `base` (None: left relative to the working
    directory, as the user typed them)."""
    if kind == "path":
        return Path(str(value)) if base is None else base / str(value)
    if kind == "paths":
        items = value if isinstance(value, list | tuple) else [value]
        return [Path(str(item)) if base is None else base / str(item) for item in items if str(item)]
    if kind == "url":
        return str(value) if base is None else store_url(str(value), base)
    return value


def store_url(url: str, base: Path) -> str:
    """`url` with a relative SQLite file path made relative to `base` (PostgreSQL URLs and
    absolute paths unchanged)."""
    if "://" in url and not url.startswith("sqlite:///"):
        return url
    path = url.removeprefix("sqlite:///")
    if not path or Path(path).is_absolute():
        return url
    return ("sqlite:///" if url.startswith("sqlite:///") else "") + str(base / path)


_TYPES: dict[Kind, tuple[type, ...]] = {
    "str": (str,), "path": (str,), "url": (str,), "bool": (bool,), "int": (int,),
}
_NAMES: dict[Kind, str] = {
    "str": "a string", "path": "a path string", "paths": "a path string or a list of them",
    "url": "a URL or path string", "bool": "true or false", "int": "an integer",
}


def _validate(pyproject: Path, section: str, table: Mapping[str, Any]) -> dict[str, Any]:
    known = KNOWN[section]
    out: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = _canonical(raw_key)
        if section == "" and key in KNOWN and key not in known:
            if not isinstance(value, dict):
                raise UserError(f"{pyproject}: {_table(key)} must be a table")
            continue
        if section == "" and isinstance(value, dict) and key not in known:
            if key not in KNOWN:
                sections = [s for s in KNOWN if s]
                raise UserError(
                    f"{pyproject}: unknown section [tool.tidings.{raw_key}]"
                    f"{did_you_mean(key, sections)} (known sections: {', '.join(sections)})"
                )
            continue
        if key not in known:
            names = [_spelled(k) for k in known] + ([f"[tool.tidings.{s}]" for s in KNOWN if s]
                                                    if not section else [])
            raise UserError(
                f"{pyproject}: unknown key {raw_key!r} in {_table(section)}"
                f"{did_you_mean(_spelled(key), names)} (known: {', '.join(names)})"
            )
        kind = known[key].kind
        ok = (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            if kind == "paths" else kind == "any" or (
                isinstance(value, _TYPES[kind]) and not (kind == "int" and isinstance(value, bool)))
        )
        if not ok:
            raise UserError(
                f"{pyproject}: {_spelled(key)} in {_table(section)} must be {_NAMES[kind]},"
                f" not {value!r}"
            )
        out[key] = value
    return out


def load_project(cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Project:
    """Find and validate the `[tool.tidings]` settings of the project `cwd` is in (the working
    directory by default). Raises `UserError` for unreadable TOML, an unknown section or key
    (with a did-you-mean), or a value of the wrong type."""
    cwd = (cwd or Path.cwd()).absolute()
    project = Project(cwd, env=os.environ if env is None else env)
    pyproject = find_pyproject(cwd)
    if pyproject is None:
        return project
    project.pyproject = pyproject
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{pyproject}: cannot read it as TOML ({exc}); fix the file") from None
    tool = data.get("tool", {})
    tidings = tool.get("tidings", {}) if isinstance(tool, dict) else {}
    if not isinstance(tidings, dict):
        raise UserError(f"{pyproject}: [tool.tidings] must be a table")
    project.tables[""] = _validate(pyproject, "", tidings)
    for section in KNOWN:
        if not section or section not in {_canonical(k) for k in tidings}:
            continue
        value = next(v for k, v in tidings.items() if _canonical(k) == section)
        project.tables[section] = _validate(pyproject, section, value)
    return project
