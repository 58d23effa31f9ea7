"""User-facing text cites nothing users do not have: no design documents or issue numbers in the
README, the docs pages, the changelog, or the strings of tidings/ (rule texts, findings, help)."""

from __future__ import annotations

import ast
import re

from tests.docs._pages import DOCS, ROOT

CITATION = re.compile(r"DESIGN(\.md)?|TALK\.md|\bissues? #?\d+|§\s*\d")


def test_no_citation_in_the_pages() -> None:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in pages
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if CITATION.search(line)]
    assert found == []


def test_no_citation_in_the_strings_of_tidings() -> None:
    found = []
    for path in sorted((ROOT / "tidings").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and CITATION.search(node.value)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:80]!r}")
    assert found == []
