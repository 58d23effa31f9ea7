"""Split a block-style catalog file into its message entries, as text, without parsing YAML.

Baselines and history versions are pruned to the messages that changed before the catalog
loader sees them; comparing entries as text is what makes that cheap. Anything this splitter is
not sure about (flow style, tabs, anchors, documents markers, odd indentation) makes it give up
(None), and the caller falls back to parsing the YAML.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_TOP_KEY = re.compile(r"^[^\s#]")
_SECTION = re.compile(r"^(events|commands)\s*:\s*(#.*)?$")
_EMPTY_SECTION = re.compile(r"^(events|commands)\s*:\s*\{\s*\}\s*(#.*)?$")
_ENTRY_KEY = re.compile(r"""^\s*(["']?)([^"'\s:#][^"':]*?)\1\s*:(\s|$)""")
_ANCHOR = re.compile(r"(^|[\s:\[\],{}-])[&*!][\w-]")
_VERSION = re.compile(r"^\s+version\s*:\s*(\d+)\s*(#.*)?$", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    """One message of a file: its `section` (events/commands), `name`, text and first line."""

    section: str
    name: str
    text: str
    line: int

    @property
    def version(self) -> int:
        """The `version:` written in the entry (1 when absent), read from its text."""
        m = _VERSION.search(self.text)
        return int(m.group(1)) if m else 1


@dataclass(frozen=True)
class SplitFile:
    """A catalog file cut into `parts`: text, or the name of a messages section whose entries
    are in `entries` (in file order)."""

    parts: tuple[str, ...]
    entries: tuple[Entry, ...]

    @property
    def frame(self) -> str:
        """Everything but the entries (contexts, `$defs`, defaults...), as one text."""
        return "".join(p if not p.startswith("\0") else p + "\n" for p in self.parts)

    def rebuild(self, keep: set[tuple[str, str]]) -> str:
        """The file with only the entries in `keep` (section, name)."""
        out: list[str] = []
        for part in self.parts:
            if not part.startswith("\0"):
                out.append(part)
                continue
            section = part[1:]
            kept = [e.text for e in self.entries
                    if e.section == section and (section, e.name) in keep]
            out.append(f"{section}:\n{''.join(kept)}" if kept else f"{section}: {{}}\n")
        return "".join(out)


def split_file(text: str) -> SplitFile | None:
    """Cut `text` into its frame and message entries; None when unsure."""
    if "\t" in text or "\r" in text:
        return None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    parts: list[str] = []
    entries: list[Entry] = []
    names: set[tuple[str, str]] = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(("---", "...", "%")):
            return None
        if _TOP_KEY.match(line) and _ANCHOR.search(line):
            return None
        m = _SECTION.match(line) if _TOP_KEY.match(line) else None
        if m is None:
            if _TOP_KEY.match(line) and line.startswith(("events", "commands")) and \
                    not _EMPTY_SECTION.match(line):
                return None
            parts.append(line)
            i += 1
            continue
        section = m.group(1)
        parts.append("\0" + section)
        i += 1
        indent: int | None = None
        current: list[str] | None = None
        start = 0
        name = ""
        while i < len(lines) and not _TOP_KEY.match(lines[i]):
            sub = lines[i]
            if _ANCHOR.search(sub.split("#", 1)[0]) and _anchor_outside_quotes(sub):
                return None
            stripped = sub.strip()
            depth = len(sub) - len(sub.lstrip(" "))
            if stripped and not stripped.startswith("#"):
                if indent is None:
                    indent = depth
                if depth == indent:
                    key = _ENTRY_KEY.match(sub)
                    if key is None:
                        return None
                    if current is not None:
                        entries.append(Entry(section, name, "".join(current), start))
                    name = key.group(2)
                    if (section, name) in names:
                        return None
                    names.add((section, name))
                    current, start = [], i + 1
                elif depth < indent or current is None:
                    return None
            if current is not None:
                current.append(sub)
            i += 1
        if current is not None:
            entries.append(Entry(section, name, "".join(current), start))
    return SplitFile(tuple(parts), tuple(entries))


def _anchor_outside_quotes(line: str) -> bool:
    """True when an anchor, alias or tag appears outside quoted text (so the splitter gives up)."""
    out: list[str] = []
    quote = ""
    for ch in line:
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
            continue
        if ch == "#":
            break
        out.append(ch)
    return _ANCHOR.search("".join(out)) is not None


def digest(*texts: str) -> str:
    """A short stable hash of texts (signatures of entries and frames)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()
