"""The tidings checker: orphan messages and incompatible payload changes, for CI."""

from tidings.checker._rules import RULES, Rule, rule_by_key
from tidings.checker._schema_diff import (
    POLICIES,
    Policy,
    SchemaChange,
    compare_schemas,
    is_compatible,
)

__all__ = [
    "POLICIES",
    "RULES",
    "Policy",
    "Rule",
    "SchemaChange",
    "compare_schemas",
    "is_compatible",
    "rule_by_key",
]
