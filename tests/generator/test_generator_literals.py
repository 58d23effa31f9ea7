"""The escaping layer: every literal evaluates to exactly the catalog text, fits the line length,
and no text can end a docstring; the template environment refuses unescaped values."""

from __future__ import annotations

import ast
from pathlib import Path

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidings._errors import UserError
from tidings.generator._literals import (
    LINE_LENGTH,
    ascii_string_tokens,
    doc_text,
    docstring,
    docstring_block,
    identifier,
    py_str,
    py_str_wrapped,
    py_value,
)
from tidings.generator._output import write_package
from tidings.generator._render import environment

any_text = st.text(st.characters(codec="utf-8"), max_size=400)


@given(any_text)
def test_string_literals_are_exact_and_ascii(value: str) -> None:
    literal = py_str(value)
    assert literal.isascii()
    assert ast.literal_eval(literal) == value


@given(any_text, st.integers(0, 40))
def test_wrapped_literals_are_exact_and_fit_the_line(value: str, indent: int) -> None:
    source = " " * indent + "x = " + py_str_wrapped(value, indent) + "\n"
    tree = ast.parse(source.lstrip())
    assert isinstance(tree.body[0], ast.Assign)
    assert ast.literal_eval(tree.body[0].value) == value
    assert all(len(line) <= LINE_LENGTH for line in source.splitlines()[1:])


@given(any_text)
def test_docstrings_cannot_be_escaped(value: str) -> None:
    source = f'def f() -> None:\n    """{docstring(value, 4)}    """\n'
    tree = ast.parse(source)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    assert len(function.body) == 1  # the docstring is the whole body: nothing else got in
    assert isinstance(function.body[0], ast.Expr)
    assert all(len(line) <= LINE_LENGTH for line in source.splitlines())
    assert source.isascii()
    assert not any(line != line.rstrip() for line in source.splitlines())
    words = ast.get_docstring(function, clean=False) or ""
    assert words.split() == value.expandtabs(4).split() or "\\" in value or not value.isascii() or (
        any(ord(c) < 32 for c in value)
    )


@given(any_text, st.sampled_from([0, 4, 8]))
def test_docstring_blocks_are_one_statement(value: str, indent: int) -> None:
    block = docstring_block(doc_text(value), indent)
    source = f"class C:\n{block}" if indent else block
    tree = ast.parse(source if indent else source + "x = 1\n")
    body = tree.body[0].body if indent else tree.body[:1]  # type: ignore[attr-defined]
    assert len(body) == 1 and isinstance(body[0], ast.Expr)
    assert isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
    assert all(len(line) <= LINE_LENGTH for line in source.splitlines())


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
))
def test_values_round_trip(value: object) -> None:
    assert ast.literal_eval(py_value(value)) == value


@given(st.lists(any_text, max_size=4))
def test_the_ascii_pass_keeps_every_string_value(values: list[str]) -> None:
    lines = []
    for index, value in enumerate(values):
        raw = value.replace("\r", "").replace("\x00", "").replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'v{index} = {value!r}\n"""{raw}"""\n')
    source = "".join(lines)
    rewritten = ascii_string_tokens(source)
    assert ast.dump(ast.parse(source)) == ast.dump(ast.parse(rewritten))
    assert rewritten.isascii()


@pytest.mark.parametrize("name", ["class", "a-b", "1a", "caf\u00e9", "x; import os", ""])
def test_identifiers_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="not a usable Python identifier"):
        identifier(name)


def test_the_environment_refuses_raw_text() -> None:
    env = environment()
    template = env.from_string("x = {{ value }}")
    with pytest.raises(TypeError, match="interpolated raw str"):
        template.render(value="__import__('os')")
    assert env.from_string("x = {{ value | str }}").render(value="'") == "x = \"'\""
    assert env.from_string("x = {{ n }}").render(n=3) == "x = 3"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    with pytest.raises(TypeError, match="expected a string"):
        env.from_string("{{ missing | str }}").render()


def test_a_failed_write_leaves_the_old_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg"
    write_package(package, {"a.py": "A = 1\n", "sub/b.py": "B = 1\n"})
    before = {p.name: p.read_text() for p in package.rglob("*.py")}

    written: list[Path] = []
    real_write_text = Path.write_text

    def failing_write_text(self: Path, *args: object, **kwargs: object) -> int:
        if written:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", failing_write_text)
    with pytest.raises(UserError, match="No space left on device"):
        write_package(package, {"a.py": "A = 2\n", "sub/b.py": "B = 2\n", "c.py": "C = 2\n"})
    monkeypatch.undo()
    assert {p.name: p.read_text() for p in package.rglob("*.py")} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pkg"]  # the staging tree is gone
