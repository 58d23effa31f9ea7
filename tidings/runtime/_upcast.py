"""Upcasters: the functions that bring a stored payload of an older version up to the version the
catalog declares now, one step (vN -> vN+1) each, applied on read (the log keeps what was
written)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tidings.runtime._spec import CatalogSpec, MessageSpec

Upcast = Callable[[Any], Any]
"""One step: takes the payload of version N (the catalog's kept model of that version when it
has one, else the JSON object as a dict) and returns the payload of version N+1 (a dict, or a
model instance)."""

_F = TypeVar("_F", bound=Callable[[Any], Any])


class UpcastError(ValueError):
    """A stored payload could not be brought to the catalog's version: a step has no upcaster,
    or one raised. Its text is one line that says what to do."""


class Upcasters:
    """The upcasters of one bus, by (message name, from_version), for the messages of `catalog`."""

    def __init__(self, catalog: CatalogSpec) -> None:
        self.catalog = catalog
        self.steps: dict[tuple[str, int], Upcast] = {}
        """Every registered step: (name, from_version) -> function."""

    def register(self, name: str, from_version: int, upcast: Upcast) -> None:
        """Add the step of `name` from `from_version` to the next version. KeyError for a name
        the catalog lacks; ValueError for a version that is not older than the catalog's, or a
        step registered twice; TypeError for a function that is not callable."""
        self._check(name, from_version)
        if not callable(upcast):
            raise TypeError(f"an upcaster must be callable, got {upcast!r}")
        if (name, from_version) in self.steps:
            raise ValueError(f"{name!r} already has an upcaster from v{from_version}: "
                             f"{_named(self.steps[(name, from_version)])}")
        self.steps[(name, from_version)] = upcast

    def decorator(self, name: str, from_version: int) -> Callable[[_F], _F]:
        """`register` as a decorator (returns the function unchanged); the name and version are
        checked at once, the function when it is applied."""
        self._check(name, from_version)

        def apply(upcast: _F) -> _F:
            self.register(name, from_version, upcast)
            return upcast

        return apply

    def _check(self, name: str, from_version: int) -> None:
        spec = self.catalog.get(name)
        if isinstance(from_version, bool) or not isinstance(from_version, int):
            raise TypeError(f"from_version must be an int, got {from_version!r}")
        if not 1 <= from_version < spec.version:
            older = (f"one of 1..{spec.version - 1}" if spec.version > 1
                     else "none: bump its `version` in the catalog first")
            raise ValueError(f"{name!r} is at version {spec.version}: an upcaster goes from an "
                             f"older version ({older}), not from {from_version}")

    def load(self, spec: MessageSpec, version: int, payload: str) -> BaseModel:
        """The payload JSON `payload`, stored as `version` of `spec`, validated into the current
        model: through every upcaster from `version` on when it is older (a newer or equal one
        is validated as it is). UpcastError when a step is missing or raises;
        pydantic.ValidationError when a payload does not fit its model."""
        if version >= spec.version:
            return spec.model.model_validate_json(payload)
        missing = next((n for n in range(version, spec.version) if (spec.name, n) not in self.steps),
                       None)
        if missing is not None:
            raise UpcastError(
                f"{spec.name!r} v{version} is stored and the catalog is at v{spec.version}: add an "
                f"upcaster from v{missing} (@bus.upcaster({spec.name!r}, from_version={missing}))")
        old = spec.previous.get(version)
        try:
            value: Any = json.loads(payload) if old is None else old.model_validate_json(payload)
        except ValidationError as exc:
            raise UpcastError(
                f"the stored v{version} payload of {spec.name!r} does not fit the catalog's kept "
                f"v{version} schema (`previous: v{version}`): {_cause(exc)}") from exc
        for step in range(version, spec.version):
            value = self._fit(spec, version, step, spec.previous.get(step), value)
            try:
                value = self.steps[(spec.name, step)](value)
            except Exception as exc:
                raise UpcastError(
                    f"the upcaster from v{step} of {spec.name!r} "
                    f"({_named(self.steps[(spec.name, step)])}) raised {type(exc).__name__}: "
                    f"{_first_line(exc)}") from exc
        result = self._fit(spec, version, spec.version, spec.model, value)
        assert isinstance(result, spec.model)
        return result

    def _fit(self, spec: MessageSpec, stored: int, version: int, model: type[BaseModel] | None,
             value: Any) -> Any:
        """`_as(model, value)`, a misfit worded as an UpcastError naming the step."""
        if version == stored:
            return _as(model, value)  # the stored payload itself: checked on loading
        try:
            return _as(model, value)
        except ValidationError as exc:
            raise UpcastError(
                f"what the upcaster from v{version - 1} of {spec.name!r} returned does not fit "
                f"v{version}: {_cause(exc)}") from exc


def _as(model: type[BaseModel] | None, value: Any) -> Any:
    """`value` as an instance of `model` (validated), or as a plain dict when `model` is None."""
    if model is None:
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True) \
            if isinstance(value, BaseModel) else value
    if type(value) is model:
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return model.model_validate(value)


def _named(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '?')}:{getattr(function, '__qualname__', function)}"


def _cause(exc: ValidationError) -> str:
    """The first error of `exc` as `field.path: message`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
