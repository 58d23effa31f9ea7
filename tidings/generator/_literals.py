"""Catalog text as Python source: every value becomes an escaped literal, never code.

Everything a template interpolates passes through one of these functions and comes out as a
`Code` string; the template environment refuses any other string (see `_render.finalize`).
String literals are ASCII-only (non-ASCII and control characters are escaped), so a catalog
cannot smuggle quotes, newlines or look-alike characters into the generated source, and ruff's
ambiguous-character rules stay quiet.
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from typing import Any

LINE_LENGTH = 100


class Code(str):
    """Source text that is safe to paste into generated Python (produced only by this module)."""

    __slots__ = ()


def _escape_char(char: str, quote: str) -> str:
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if char == quote:
        return "\\" + quote
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    if 0x20 <= code < 0x7F:
        return char
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escaped_pieces(value: str) -> list[str]:
    return [_escape_char(char, '"') for char in value]


_PLAIN = re.compile(r"[ !#-\[\]-~]*\Z")  # printable ASCII but `"` and `\\`: nothing to escape


def py_str(value: str) -> Code:
    """A double-quoted, ASCII-only Python literal whose value is exactly `value`."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    if _PLAIN.match(value):
        return Code(f'"{value}"')
    return Code('"' + "".join(_escaped_pieces(value)) + '"')


def py_str_wrapped(value: str, indent: int, prefix: int = 30) -> Code:
    """`py_str(value)`, split into parenthesized implicitly concatenated chunks when it would not
    fit on a line that starts at `indent` with up to `prefix` characters before the literal."""
    literal = py_str(value)
    if indent + prefix + len(literal) + 1 <= LINE_LENGTH:
        return literal
    inner = " " * (indent + 4)
    budget = LINE_LENGTH - len(inner) - 2
    lines: list[str] = []
    chunk = ""
    for piece in _escaped_pieces(value):
        if len(chunk) + len(piece) > budget or (chunk.endswith("\\n") and chunk):
            lines.append(f'{inner}"{chunk}"')
            chunk = ""
        chunk += piece
    if chunk or not lines:
        lines.append(f'{inner}"{chunk}"')
    return Code("(\n" + "\n".join(lines) + "\n" + " " * indent + ")")


def py_value(value: Any) -> Code:
    """A Python literal for a JSON-like value (None, bool, int, float, str, tuple, list, dict)."""
    if value is None or isinstance(value, bool):
        return Code(repr(value))
    if isinstance(value, int):
        return Code(str(int(value)))
    if isinstance(value, float):
        text = repr(float(value))
        if text in {"inf", "-inf", "nan"}:
            raise ValueError(f"{value!r} has no Python literal")
        return Code(text)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, tuple):
        items = [py_value(item) for item in value]
        return Code("(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")")
    if isinstance(value, list):
        return Code("[" + ", ".join(py_value(item) for item in value) + "]")
    if isinstance(value, dict):
        return Code(
            "{" + ", ".join(f"{py_str(str(k))}: {py_value(v)}" for k, v in value.items()) + "}"
        )
    raise TypeError(f"no Python literal for {type(value).__name__}")


def identifier(value: str) -> Code:
    """`value` itself, after checking it is an ASCII Python identifier and no keyword."""
    if not (
        isinstance(value, str)
        and value.isascii()
        and value.isidentifier()
        and not keyword.iskeyword(value)
    ):
        raise ValueError(f"{value!r} is not a usable Python identifier")
    return Code(value)


def doc_text(value: str) -> Code:
    """`value` escaped for the inside of a triple-double-quoted string: backslashes, every double
    quote, and non-printable or non-ASCII characters are escaped; newlines are kept."""
    text = str(value).expandtabs(4)
    if _PLAIN.match(text.replace("\n", " ")):
        return Code(text)
    return Code(
        "".join(
            "\n" if char == "\n" else '\\"' if char == '"' else _escape_char(char, "")
            for char in text
        )
    )


_ESCAPE_OR_CHAR = re.compile(r"\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8}|.)|.", re.DOTALL)


def doc_wrap(text: str, indent: int) -> Code:
    """Escaped docstring text (from `doc_text` and identifiers) re-flowed to the line length.

    Each line is wrapped on spaces (an over-long word is split, never inside an escape);
    blank lines stay as paragraph breaks; trailing blank lines go; continuation lines carry
    `indent` spaces; the result ends with a newline. The template writes the quotes.
    """
    width = max(LINE_LENGTH - indent - 3, 20)
    out_lines: list[str] = []
    for raw_line in str(text).splitlines():
        words = raw_line.split()
        if not words:
            if out_lines and out_lines[-1]:
                out_lines.append("")
            continue
        line = ""
        for word in words:
            parts = [word] if len(word) <= width else _split_escaped(_ESCAPE_OR_CHAR.findall(word), width)
            for part in parts:
                if line and len(line) + 1 + len(part) > width:
                    out_lines.append(line)
                    line = part
                else:
                    line = f"{line} {part}" if line else part
        out_lines.append(line)
    while out_lines and not out_lines[-1]:
        out_lines.pop()
    while out_lines and not out_lines[0]:
        out_lines.pop(0)
    pad = " " * indent
    body = "\n".join(pad + line if line and i else line for i, line in enumerate(out_lines))
    return Code(body + "\n")


def docstring_block(text: str, indent: int) -> Code:
    """A whole docstring indented by `indent`, quotes included, from escaped text (`doc_wrap`
    rules): one line when it fits, else the closing quotes on their own line. Ends with a
    newline (a template's leading spaces before the block tag are stripped)."""
    body = doc_wrap(text, indent).rstrip("\n")
    if body.endswith('"') and not body.endswith('\\"'):
        body = body[:-1] + '\\"'
    pad = " " * indent
    if "\n" not in body and indent + 6 + len(body) <= LINE_LENGTH:
        return Code(f'{pad}"""{body}"""\n')
    return Code(f'{pad}"""{body}\n{pad}"""\n')


def docstring(value: str, indent: int) -> Code:
    """The body of a docstring showing the catalog text `value` (`doc_text`, then `doc_wrap`)."""
    return doc_wrap(doc_text(value), indent)


def _doc_escape(value: str) -> list[str]:
    """Per character of `value`, its escaped form inside a triple-double-quoted string (newlines
    kept, trailing spaces of a line escaped, quotes escaped where they could close the string)."""
    pieces: list[str] = []
    last = len(value) - 1
    for index, char in enumerate(value):
        if char == "\n":
            pieces.append("\n")
        elif char == '"' and (
            index == last or value[index + 1] == '"' or (index and value[index - 1] == '"')
        ):
            pieces.append('\\"')
        elif char == " " and (index == last or value[index + 1] == "\n"):
            pieces.append("\\x20")
        else:
            pieces.append(_escape_char(char, ""))
    return pieces


def _split_escaped(pieces: list[str], width: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) > width:
            parts.append(current)
            current = ""
        current += piece
    parts.append(current)
    return parts


_NON_ASCII = re.compile(r"[^\x20-\x7e\n]")


def ascii_string_tokens(source: str) -> str:
    """`source` with every string literal holding non-ASCII or control characters rewritten as an
    ASCII-only literal of the same value (used on datamodel-code-generator's output)."""
    if source.isascii() and not _NON_ASCII.search(source):
        return source
    import ast

    lines = io.StringIO(source).readlines()  # the same line split as tokenize's (on "\n" only)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.STRING or not _NON_ASCII.search(token.string):
            continue
        prefix = re.match(r"[A-Za-z]*", token.string)
        if prefix and prefix.group(0).lower() not in {"", "u"}:
            continue
        value = ast.literal_eval(token.string)
        body = token.string[len(prefix.group(0)) if prefix else 0 :]
        if body.startswith(('"""', "'''")):
            replacement = '"""' + "".join(_doc_escape(value)) + '"""'
        else:
            replacement = py_str(value)
        start = offsets[token.start[0] - 1] + token.start[1]
        end = offsets[token.end[0] - 1] + token.end[1]
        edits.append((start, end, replacement))
    for start, end, replacement in reversed(edits):
        source = source[:start] + replacement + source[end:]
    return source
