"""Catalog errors: every issue names a file, line, column, the place, and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from tidings._errors import UserError
from tidings.catalog._model import Location


class CatalogIssue(BaseModel):
    """One problem in a catalog.

    `path` is the dotted place in the YAML (`events.shipmentCreated.payload`), `pointer` the JSON
    pointer inside a payload schema (or None), `message` says what is wrong and how to fix it.
    `str()` is `file:line:col: path pointer: message`.
    """

    model_config = ConfigDict(frozen=True)

    location: Location
    path: str = ""
    pointer: str | None = None
    message: str

    def __str__(self) -> str:
        where = " ".join(_printable(part) for part in (self.path, self.pointer) if part)
        message = _printable(self.message)
        return f"{self.location}: {where}: {message}" if where else f"{self.location}: {message}"


def _printable(text: str) -> str:
    """`text` with control characters escaped, so that one issue is always one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _sort_key(issue: CatalogIssue) -> tuple[str, int, int, str]:
    loc = issue.location
    return (loc.file, loc.line, loc.column, str(issue))


class CatalogError(UserError):
    """A catalog that cannot be loaded; `.issues` lists every problem, sorted by file and line.

    `str()` gives one issue per line.
    """

    def __init__(self, issues: Iterable[CatalogIssue]) -> None:
        unique = {str(issue): issue for issue in issues}
        self.issues: list[CatalogIssue] = sorted(unique.values(), key=_sort_key)
        super().__init__("\n".join(str(issue) for issue in self.issues))
