"""What the docs tests share: the repository's pages, their fenced blocks, and a shell whose
`tidings` and `python` are the ones of the running test environment."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```([\w-]*)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, the rest of its opening line, and its text."""

    lang: str
    attrs: str
    text: str

    @property
    def title(self) -> str | None:
        match = re.search(r'title="([^"]+)"', self.attrs)
        return match.group(1) if match else None


def blocks(path: Path) -> list[Block]:
    """Every top-level fenced block of a Markdown file, in order."""
    return [Block(*m.groups()) for m in _FENCE.finditer(path.read_text(encoding="utf-8"))]


@cache
def _this_tidings() -> str:
    """A directory holding only `tidings`, a link to this checkout's package: on PYTHONPATH it
    makes the shell's `tidings` this checkout's (the virtualenv may have another installed)
    without putting the checkout's `generated`, `examples` or `tests` before a project's."""
    where = Path(tempfile.mkdtemp(prefix="tidings-under-test-"))
    (where / "tidings").symlink_to(ROOT / "tidings", target_is_directory=True)
    return str(where)


def shell_env() -> dict[str, str]:
    """The environment a user's shell would have after activating this test run's virtualenv:
    `tidings` and `python` first on PATH, the tidings of this checkout, no TIDINGS_* settings
    leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    env["PYTHONPATH"] = _this_tidings()
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
