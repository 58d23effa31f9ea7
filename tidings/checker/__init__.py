"""The tidings checker: orphan messages and incompatible payload changes, for CI.

`run_check(resolve_settings({...}))` is what `tidings check` runs; `compare_schemas(old, new)`
is the pure JSON Schema compatibility engine underneath.
"""

from tidings.checker._baseline import (
    Baseline,
    load_git_baseline,
    load_git_history,
    load_path_baseline,
)
from tidings.checker._check import run_check
from tidings.checker._code import Use, code_orphans, scan_code
from tidings.checker._compat import (
    compare_catalogs,
    compare_message,
    is_transitive,
    required_directions,
)
from tidings.checker._distributed import (
    distribution_findings,
    why_distributed,
    wire_sync_findings,
)
from tidings.checker._findings import Finding, Severity
from tidings.checker._ignore import IgnoreEntry, apply_ignores, load_ignore_file
from tidings.checker._orphans import catalog_orphans
from tidings.checker._report import FORMATS, RENDERERS, CheckResult, render_text
from tidings.checker._rules import RULES, Rule, rule_by_key
from tidings.checker._schema_diff import (
    POLICIES,
    Policy,
    SchemaChange,
    compare_schemas,
    is_compatible,
)
from tidings.checker._settings import CheckSettings, resolve_settings
from tidings.checker._witness import Witness, WitnessOutcome, find_witness

__all__ = [
    "FORMATS",
    "POLICIES",
    "RENDERERS",
    "RULES",
    "Baseline",
    "CheckResult",
    "CheckSettings",
    "Finding",
    "IgnoreEntry",
    "Policy",
    "Rule",
    "SchemaChange",
    "Severity",
    "Use",
    "Witness",
    "WitnessOutcome",
    "apply_ignores",
    "catalog_orphans",
    "code_orphans",
    "compare_catalogs",
    "compare_message",
    "compare_schemas",
    "distribution_findings",
    "find_witness",
    "is_compatible",
    "is_transitive",
    "load_git_baseline",
    "load_git_history",
    "load_ignore_file",
    "load_path_baseline",
    "render_text",
    "required_directions",
    "resolve_settings",
    "rule_by_key",
    "run_check",
    "scan_code",
    "why_distributed",
    "wire_sync_findings",
]
