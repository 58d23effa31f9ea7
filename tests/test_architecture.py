"""The shape of the code, read from the AST of every module under tidings/ (nothing is imported).

No import cycle. The graph has one node per module (`tidings/a/b.py` is `tidings.a.b`, a
package is its `__init__.py`) and an edge for every import statement anywhere in a module
(top level, inside functions, and under `if TYPE_CHECKING:` too: a circle that only the type
checker walks is still a circle for a reader, and it breaks the day someone needs the name at
run time):
- `import a.b.c` is an edge to `a.b.c`;
- `from a.b import c` is an edge to `a.b.c` when that is a module (`a.b` is then only its
  parent package), else to `a.b` (whose `__init__` must run to give `c`); relative imports are
  resolved against the importing module's package.
Parent packages are not edges (Python initialises them, but a submodule importing a sibling
by its full path is not a circle with the package that imports both). Any strongly connected
component of more than one module, or a module importing itself, fails the test.

No module reads another module's private names. A private name starts with `_` and is not a
dunder (`__x__`); it belongs to the module that defines it, and to no other: not to sibling
modules, not to subclasses in other modules. Private *modules* (`tidings.runtime.stores._base`)
may be imported from anywhere inside tidings/: their public names are the interfaces between
packages. The rule, per module:
- `from m import _x` fails unless `m._x` is a module;
- `obj._x` (read, written or deleted; `self._x`, `cls._x` and `super()._x` included) fails
  unless this module defines `_x`: as a top-level name, a function or class name, a name
  assigned anywhere (a class attribute, a local), an entry of a `__slots__`, or an attribute
  assigned through `self._x = ...` / `cls._x = ...`. So a module may reach into the objects of
  the classes it defines, and into nobody else's (a subclass in another module calling its
  base's `_helper` fails: the base should offer a public hook).
Names are matched by spelling (the AST has no types): a module that defines `_x` for itself
is not caught reaching into another class's `_x`. `ALLOWED_PRIVATE` lists the exceptions left,
each with its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tidings"

ALLOWED_PRIVATE: dict[tuple[str, str], str] = {
    # (module, "what") -> why it is allowed. The SQL stores share package-private helpers of
    # stores/_sql.py; the stores are being reworked on another branch (read-only opening),
    # where these become public hooks without a second edit of the same lines here.
    ("tidings.runtime.stores._postgres", "from tidings.runtime.stores._sql import _Append"):
        "the SQL stores' shared batch record",
    ("tidings.runtime.stores._sqlite", "from tidings.runtime.stores._sql import _Append"):
        "the SQL stores' shared batch record",
    ("tidings.runtime.stores._postgres", "self._due_clause"): "SqlStore's claim helper",
    ("tidings.runtime.stores._sqlite", "self._due_clause"): "SqlStore's claim helper",
    ("tidings.runtime.stores._postgres", "self._refuse_write"): "SqlStore's read-only guard",
    ("tidings.runtime.stores._sqlite", "self._refuse_write"): "SqlStore's read-only guard",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _package_of(module: str) -> str:
    """The package a module's relative imports resolve against (a package is its own)."""
    path = MODULES.get(module)
    return module if path is not None and path.name == "__init__.py" else module.rpartition(".")[0]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _imports(module: str, tree: ast.AST) -> Iterator[tuple[ast.stmt, str, str | None]]:
    """(statement, imported module, imported name or None) for every import in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                yield node, source, alias.name


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for _, source, name in _imports(module, ast.parse(path.read_text(), str(path))):
            if name is not None and f"{source}.{name}" in MODULES:
                graph[module].add(f"{source}.{name}")
            elif source in MODULES:
                graph[module].add(source)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components, iteratively.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_inside_tidings() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles inside tidings/:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a"}}) == [["a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _own_names(tree: ast.Module) -> set[str]:
    """The private names this module defines (see the module docstring)."""
    own: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) \
                and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            own.add(node.attr)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
            for element in ast.walk(node.value):
                if isinstance(element, ast.Constant) and isinstance(element.value, str):
                    own.add(element.value)
    return {name for name in own if _is_private(name)}


def _private_uses(module: str, source_text: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(source_text)
    own = _own_names(tree)
    for statement, source, name in _imports(module, tree):
        if name is not None and _is_private(name) and f"{source}.{name}" not in MODULES:
            yield statement.lineno, f"from {source} import {name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in own:
            yield node.lineno, f"{ast.unparse(node.value)}.{node.attr}"


def test_no_module_reads_another_modules_private_names() -> None:
    found = []
    for module, path in MODULES.items():
        for line, what in _private_uses(module, path.read_text()):
            if (module, what) not in ALLOWED_PRIVATE:
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_private_check_sees_a_reach_into_another_module() -> None:
    module = "tidings.runtime.bus._bus"
    code = "from tidings.runtime.emitter._dispatch import _begin\ndef f(bus):\n    return bus._tg\n"
    assert [what for _, what in _private_uses(module, code)] == [
        "from tidings.runtime.emitter._dispatch import _begin", "bus._tg"]
    own = "class A:\n    __slots__ = ('_x',)\ndef f(a):\n    return a._x, a.__dict__\n"
    assert list(_private_uses(module, own)) == []
    inherited = "class B(A):\n    def f(self):\n        return self._y, super()._z\n"
    assert [what for _, what in _private_uses(module, inherited)] == ["self._y", "super()._z"]
