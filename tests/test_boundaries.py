"""Package boundaries (DESIGN §1): the runtime needs only anyio and pydantic; generated code imports
only `tidings.runtime`, pydantic and the standard library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STDLIB = set(sys.stdlib_module_names)
RUNTIME_DEPENDENCIES = {"anyio", "pydantic", "sniffio"}  # sniffio comes with anyio
LAZY_DRIVERS = {  # imported inside functions (or for type checking) only
    "psycopg", "psycopg_pool", "nats", "trio", "boto3", "botocore", "mypy_boto3_sns", "mypy_boto3_sqs",
}


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(top-level module, line, at module level?) of every absolute import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            found.append((name, node.lineno, id(node) in module_level))
    return found


def test_runtime_imports_only_anyio_pydantic_and_the_standard_library() -> None:
    wrong = []
    for path in sorted((ROOT / "tidings" / "runtime").rglob("*.py")):
        for name, line, module_level in _imports(path):
            top = name.split(".")[0]
            if name.startswith("tidings."):
                ok = name == "tidings.runtime" or name.startswith("tidings.runtime.")
            else:
                ok = top in STDLIB or top in RUNTIME_DEPENDENCIES or (
                    top in LAZY_DRIVERS and not module_level
                )
            if not ok:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    assert wrong == []


def test_importing_the_runtime_loads_no_other_part_of_tidings_and_no_driver() -> None:
    code = (
        "import sys, tidings.runtime, tidings.runtime.stores\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'psycopg', 'psycopg_pool', 'nats', 'jinja2', 'jsonschema', 'yaml', 'click', "
        "'datamodel_code_generator', 'referencing'} or m.startswith(('tidings.catalog', "
        "'tidings.generator', 'tidings.checker', 'tidings.cli')))\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_generated_code_imports_only_the_runtime_pydantic_and_the_standard_library() -> None:
    files = sorted((ROOT / "generated").rglob("*.py"))
    assert files, "generated/ holds the example catalog's code"
    wrong = []
    for path in files:
        for name, line, _ in _imports(path):
            top = name.split(".")[0]
            ok = top in STDLIB or top == "pydantic" or name == "tidings.runtime" or (
                name.startswith("generated.")
            )
            if not ok:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    assert wrong == []
