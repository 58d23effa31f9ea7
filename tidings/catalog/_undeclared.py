"""Undeclared properties of a validated payload: what `tidings emit` warns about (likely typos)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class UndeclaredField:
    """A property the schema does not declare, kept because its object is open."""

    path: str
    """Where it is: dotted wire names from the payload root (`detail.coment`, `items.0.x`)."""
    suggestion: str | None
    """The declared property it is probably a typo of, if one is close."""

    def __str__(self) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"{self.path!r} is not declared by the schema{hint}; it is kept as sent"


def undeclared_fields(payload: BaseModel) -> list[UndeclaredField]:
    """Every undeclared property inside `payload` (a generated model instance), outermost first,
    each with the closest declared name of its object as a suggestion."""
    found: list[UndeclaredField] = []
    _walk(payload, "", found)
    return found


def _walk(value: Any, at: str, found: list[UndeclaredField]) -> None:
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        declared = sorted(f.alias or name for name, f in fields.items())
        for key in value.__pydantic_extra__ or {}:
            close = difflib.get_close_matches(key, declared, n=1, cutoff=0.7)
            found.append(UndeclaredField(f"{at}{key}", close[0] if close else None))
        for name, field in fields.items():
            _walk(getattr(value, name, None), f"{at}{field.alias or name}.", found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{at}{index}.", found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{at}{key}.", found)
